/**
 * `pnpm faults`: starts its own stack (3 KRaft brokers, Redis, 3 gateways, haproxy) in its own
 * state directory, runs the scenarios one after another on fresh topics, prints the table (or one
 * JSON line with --json) and stops the stack. Scenarios that need Redis behind Sentinel run
 * afterwards on a second stack (primary, replica, 3 sentinels) in <dir>-sentinel. Exit code 1 when
 * a scenario missed a target.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { readStackInfo, type StackInfo, startStack, stopStack } from "../../deploy/stack/index.ts";
import { check } from "./checker.ts";
import { jsonLine, problems, table } from "./report.ts";
import { runScenario, type ScenarioResult } from "./run.ts";
import { findScenario, type RedisKind, SCENARIOS, type Scenario } from "./scenarios.ts";

const KINDS: readonly RedisKind[] = ["single", "sentinel"];

/** A --reuse that finds no stack of the kind a scenario needs. */
class UsageError extends Error {}

const USAGE = `usage: pnpm faults [--scenario NAME]... [--short] [--json] [--dir D] [--reuse] [--keep]
  --scenario  run only these (${SCENARIOS.map((s) => s.name).join(", ")})
  --short     the CI form: ${SCENARIOS.filter((s) => s.short)
    .map((s) => s.name)
    .join(" and ")}, one round each, shorter holds
  --json      print one JSON line instead of the table
  --dir       the stack's state directory (default <repo>/.stack-faults; the Sentinel stack's: D-sentinel)
  --reuse     run on the stacks already running in --dir (and D-sentinel) instead of starting them
  --keep      leave the stacks (and their logs) running afterwards
  --history   write each scenario's history and read-back to DIR/<scenario>.json`;

/** Failover in seconds rather than the defaults' tens of seconds (the integration suite uses the same). */
const GATEWAY_ENV = {
  WHARF_CLUSTER_HEARTBEAT_MS: "500",
  WHARF_CLUSTER_NODE_TTL_MS: "3000",
  WHARF_CLUSTER_LEASE_TTL_MS: "3000",
  WHARF_CONSUMER_SESSION_TIMEOUT_MS: "6000",
  WHARF_CONSUMER_HEARTBEAT_INTERVAL_MS: "1000",
  WHARF_LOG_LEVEL: "info",
};

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string", multiple: true },
      short: { type: "boolean" },
      json: { type: "boolean" },
      dir: { type: "string" },
      reuse: { type: "boolean" },
      keep: { type: "boolean" },
      history: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const short = values.short === true;
  let scenarios: Scenario[];
  if (values.scenario) {
    scenarios = [];
    for (const name of values.scenario) {
      const found = findScenario(name);
      if (!found) {
        process.stderr.write(`unknown scenario "${name}"\n${USAGE}\n`);
        return 2;
      }
      scenarios.push(found);
    }
  } else {
    scenarios = SCENARIOS.filter((s) => !short || s.short);
  }

  const log = (message: string) => process.stderr.write(`[faults] ${message}\n`);
  const dir = resolve(values.dir ?? resolve(import.meta.dirname, "..", "..", ".stack-faults"));
  const keep = values.reuse === true || values.keep === true;
  // One stack per Redis kind, one at a time (2 cores): the single-Redis scenarios first, then
  // the Sentinel ones, each kind's stack started once and stopped before the next one starts.
  const ordered = [...scenarios].sort((a, b) => KINDS.indexOf(a.redis) - KINDS.indexOf(b.redis));
  let current: { kind: RedisKind; stack: StackInfo } | null = null;
  const release = async () => {
    if (current && !keep) await stopStack(current.stack.dir);
    current = null;
  };
  const stackFor = async (kind: RedisKind): Promise<StackInfo> => {
    if (current?.kind === kind) return current.stack;
    await release();
    const kindDir = kind === "single" ? dir : `${dir}-sentinel`;
    let stack: StackInfo;
    if (values.reuse) {
      const info = readStackInfo(kindDir);
      if (!info) throw new UsageError(`no stack in ${kindDir}`);
      if ((info.redisSentinel !== null) !== (kind === "sentinel")) {
        throw new UsageError(`the stack in ${kindDir} is not one with ${kind === "single" ? "one Redis" : "Sentinel"}`);
      }
      stack = info;
    } else {
      log(`starting the stack (${kind === "single" ? "one Redis" : "Redis Sentinel"}) in ${kindDir}`);
      stack = await startStack({
        brokers: 3,
        gateways: 3,
        lb: true,
        ...(kind === "single" ? { redisLocal: true } : { redisSentinel: true }),
        gatewayPort: 0,
        gatewayEnv: GATEWAY_ENV,
        dir: kindDir,
        log,
      });
    }
    current = { kind, stack };
    return stack;
  };
  const interrupted = () => {
    log("interrupted, stopping the stack");
    release().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  const results: ScenarioResult[] = [];
  try {
    for (const scenario of ordered) {
      let result: ScenarioResult;
      try {
        const stack = await stackFor(scenario.redis);
        log(`scenario ${scenario.name}: ${scenario.description}`);
        result = await runScenario(stack, scenario, { short, log });
      } catch (error) {
        if (error instanceof UsageError) throw error;
        // A stack that would not start fails its scenarios; those already run keep their figures.
        const message = error instanceof Error ? error.message : String(error);
        log(`scenario ${scenario.name}: no stack: ${message}`);
        result = notRun(scenario, `stack: ${message}`);
      }
      results.push(result);
      if (values.history) {
        mkdirSync(values.history, { recursive: true });
        writeFileSync(resolve(values.history, `${scenario.name}.json`), JSON.stringify(result.evidence));
      }
      const found = problems(result);
      log(`scenario ${scenario.name}: ${found.length === 0 ? "ok" : `FAIL (${found.join("; ")})`}`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  } finally {
    await release();
  }
  const command = `pnpm faults ${argv.join(" ")}`.trim();
  process.stdout.write(`${values.json ? jsonLine(results, command) : table(results)}\n`);
  return results.every((r) => problems(r).length === 0) ? 0 : 1;
}

function notRun(scenario: Scenario, error: string): ScenarioResult {
  return {
    name: scenario.name,
    description: scenario.description,
    produceUnaffected: scenario.produceUnaffected === true,
    topic: "",
    durationMs: 0,
    verdict: check([], []),
    drained: false,
    error,
    evidence: { events: [], stored: [] },
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[faults] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
