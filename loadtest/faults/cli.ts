/**
 * `pnpm faults`: starts its own stack (3 KRaft brokers, Redis, 3 gateways, haproxy) in its own
 * state directory, runs the scenarios one after another on fresh topics, prints the table (or one
 * JSON line with --json) and stops the stack. Exit code 1 when a scenario missed a target.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { readStackInfo, type StackInfo, startStack, stopStack } from "../../deploy/stack/index.ts";
import { jsonLine, problems, table } from "./report.ts";
import { runScenario, type ScenarioResult } from "./run.ts";
import { findScenario, SCENARIOS, type Scenario } from "./scenarios.ts";

const USAGE = `usage: pnpm faults [--scenario NAME]... [--short] [--json] [--dir D] [--reuse] [--keep]
  --scenario  run only these (${SCENARIOS.map((s) => s.name).join(", ")})
  --short     the CI form: ${SCENARIOS.filter((s) => s.short)
    .map((s) => s.name)
    .join(" and ")}, one round each, shorter holds
  --json      print one JSON line instead of the table
  --dir       the stack's state directory (default <repo>/.stack-faults)
  --reuse     run on the stack already running in --dir instead of starting one
  --keep      leave the stack (and its logs) running afterwards
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
  let stack: StackInfo;
  if (values.reuse) {
    const info = readStackInfo(dir);
    if (!info) {
      process.stderr.write(`no stack in ${dir}\n`);
      return 2;
    }
    stack = info;
  } else {
    log(`starting the stack in ${dir}`);
    stack = await startStack({
      brokers: 3,
      gateways: 3,
      lb: true,
      redisLocal: true,
      gatewayPort: 0,
      gatewayEnv: GATEWAY_ENV,
      dir,
      log,
    });
  }
  const interrupted = () => {
    log("interrupted, stopping the stack");
    (values.reuse || values.keep ? Promise.resolve() : stopStack(dir)).finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  const results: ScenarioResult[] = [];
  try {
    for (const scenario of scenarios) {
      log(`scenario ${scenario.name}: ${scenario.description}`);
      const result = await runScenario(stack, scenario, { short, log });
      results.push(result);
      if (values.history) {
        mkdirSync(values.history, { recursive: true });
        writeFileSync(resolve(values.history, `${scenario.name}.json`), JSON.stringify(result.evidence));
      }
      const found = problems(result);
      log(`scenario ${scenario.name}: ${found.length === 0 ? "ok" : `FAIL (${found.join("; ")})`}`);
    }
  } finally {
    if (!values.reuse && !values.keep) await stopStack(dir);
  }
  const command = `pnpm faults ${argv.join(" ")}`.trim();
  process.stdout.write(`${values.json ? jsonLine(results, command) : table(results)}\n`);
  return results.every((r) => problems(r).length === 0) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[faults] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
