/**
 * Wharf's load test: `node loadtest/bench.ts [--json] [--duration S] [--scenarios a,b]`.
 * Starts its own stack (or reuses --kafka / --gateway), measures each scenario against its
 * ceiling in the same run, prints a table (or one JSON line with --json) and stops what it started.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import type { Peer } from "./phase.ts";
import { compare, machineInfo, type RunInfo, toJsonLine, toText } from "./report.ts";
import { guardRun } from "./run-guard.ts";
import { OPT_IN_SCENARIOS, type PhaseResult, runScenario, SCENARIOS, type ScenarioName } from "./scenarios.ts";
import { defaultStackDir, openTarget, type Target } from "./target.ts";

const USAGE = `usage: node loadtest/bench.ts [options]
  --json               print one JSON line instead of the table (progress still goes to stderr)
  --duration S         seconds per measured phase (default 8; about 5 min in all with the stack)
  --warmup S           seconds of discarded warm-up before each scenario (default 3)
  --scenarios a,b      any of ${SCENARIOS.join(", ")} (default all but ${OPT_IN_SCENARIOS.join(", ")})
  --partitions N       partitions of the benchmark topic (default 3)
  --gateways N         gateways of the stack this run starts, behind haproxy when N > 1 (default 3)
  --stack-dir D        state directory of that stack (default $TMPDIR/bench-<pid>)
  --kafka HOST:PORT    reuse this Kafka instead of starting a broker
  --kafka-pid PID      the reused brokers' pids, for their CPU (repeatable)
  --gateway URL        reuse this gateway too (needs --kafka)
  --gateway-pid PID    the reused gateway's pid, for its CPU and RSS
  --target [NAME=]URL  another Confluent-v2-compatible endpoint on the same Kafka (repeatable):
                       adds the peers scenario, which runs the v2 produce requests against Wharf
                       and each target and prints each target's figures as ratios of Wharf's
  --target-pid PID     the pid of each --target, in the same order (repeatable, optional): its CPU
                       per record is then measured as the gateway's is
  --tail-rate N        the tail scenario's rate in requests/s instead of 50% of its own ramp's
                       saturation (to compare gateways at one rate)
  --tail-slices N      the tail scenario alternates Wharf and the plain producer N times within
                       each round (slices of duration/N each), so both meet the same drifts of the
                       broker and the machine; 1 (default) runs them one after the other
Only loopback addresses are accepted.`;

/** However the phases behave, the run ends by then (stack start-up included). */
const WATCHDOG_MS = 15 * 60_000;
const VALUE_BYTES = 1024;
/** Fixed-rate phases: the first is the latency comparison, the second the near-saturation check. */
const LOAD_FRACTIONS = [0.5, 0.9];

interface Cli {
  json: boolean;
  durationS: number;
  warmupS: number;
  scenarios: ScenarioName[];
  partitions: number;
  gateways: number;
  stackDir: string;
  kafka: string | null;
  gateway: string | null;
  gatewayPid: number | null;
  kafkaPids: number[];
  targets: Peer[];
  tailRate: number | null;
  tailSlices: number;
}

function parseCli(argv: string[]): Cli {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: "boolean", default: false },
      duration: { type: "string", default: "8" },
      warmup: { type: "string", default: "3" },
      scenarios: { type: "string", default: SCENARIOS.filter((s) => !OPT_IN_SCENARIOS.includes(s)).join(",") },
      partitions: { type: "string", default: "3" },
      gateways: { type: "string", default: "3" },
      "stack-dir": { type: "string" },
      kafka: { type: "string" },
      "kafka-pid": { type: "string", multiple: true },
      gateway: { type: "string" },
      "gateway-pid": { type: "string" },
      target: { type: "string", multiple: true },
      "target-pid": { type: "string", multiple: true },
      "tail-rate": { type: "string" },
      "tail-slices": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const number = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be between ${min} and ${max}`);
    return n;
  };
  if (values.gateway && !values.kafka) {
    throw new Error("--gateway needs --kafka as well: the plain producer and the topic set-up talk to Kafka");
  }
  const scenarios = values.scenarios.split(",").map((s) => s.trim());
  const targetPids = (values["target-pid"] ?? []).map((p) => number("target-pid", p, 1, 2 ** 22));
  if (targetPids.length > (values.target ?? []).length) throw new Error("more --target-pid than --target");
  const targets = (values.target ?? []).map((t, i) => peerOf(t, i, targetPids[i] ?? null));
  if (targets.length > 0 && !scenarios.includes("peers")) scenarios.push("peers");
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}"`);
  }
  return {
    json: values.json,
    durationS: number("duration", values.duration, 1, 600),
    warmupS: number("warmup", values.warmup, 0, 60),
    scenarios: SCENARIOS.filter((s) => scenarios.includes(s)),
    partitions: number("partitions", values.partitions, 1, 1000),
    gateways: number("gateways", values.gateways, 1, 5),
    stackDir: values["stack-dir"] ?? defaultStackDir(),
    kafka: values.kafka ? loopbackKafka(values.kafka) : null,
    gateway: values.gateway ? loopbackUrl(values.gateway, "--gateway") : null,
    gatewayPid: values["gateway-pid"] ? number("gateway-pid", values["gateway-pid"], 1, 2 ** 22) : null,
    kafkaPids: (values["kafka-pid"] ?? []).map((p) => number("kafka-pid", p, 1, 2 ** 22)),
    targets,
    tailRate: values["tail-rate"] ? number("tail-rate", values["tail-rate"], 1, 1_000_000) : null,
    tailSlices: values["tail-slices"] ? number("tail-slices", values["tail-slices"], 1, 100) : 1,
  };
}

const isLoopback = (host: string) => host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);

function loopbackKafka(bootstrap: string): string {
  for (const server of bootstrap.split(",")) {
    const host = server.slice(0, server.lastIndexOf(":"));
    if (!isLoopback(host)) throw new Error(`--kafka must name loopback addresses only, got "${server}"`);
  }
  return bootstrap;
}

/** `strimzi=http://127.0.0.1:8090` or a bare URL, which the report names "peer N (URL)". */
function peerOf(raw: string, index: number, pid: number | null): Peer {
  const named = /^([A-Za-z][\w.-]*)=(.+)$/.exec(raw);
  const url = loopbackUrl(named ? (named[2] as string) : raw, "--target");
  return { name: named ? (named[1] as string) : `peer ${index + 1} (${url})`, url, pid };
}

function loopbackUrl(raw: string, flag: string): string {
  const url = new URL(raw);
  if (url.protocol !== "http:" || !isLoopback(url.hostname)) {
    throw new Error(`${flag} must be an http:// loopback URL, got "${raw}"`);
  }
  return url.origin;
}

const started = performance.now();
const log = (message: string) => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
};

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }

  let target: Target | null = null;
  let closing: Promise<void> | null = null;
  const cleanup = () => {
    closing ??= target ? target.close() : Promise.resolve();
    return closing;
  };
  guardRun(cleanup, log, WATCHDOG_MS);

  const startedAt = new Date().toISOString();
  const loadAvgStart = loadavg();
  try {
    target = await openTarget({
      kafka: cli.kafka,
      gateway: cli.gateway,
      gatewayPid: cli.gatewayPid,
      kafkaPids: cli.kafkaPids,
      partitions: cli.partitions,
      gateways: cli.gateways,
      stackDir: cli.stackDir,
      log,
    });
    const ctx = {
      target,
      value: randomBytes(VALUE_BYTES),
      durationMs: cli.durationS * 1000,
      warmupMs: cli.warmupS * 1000,
      loadFractions: LOAD_FRACTIONS,
      peers: cli.targets,
      tailRate: cli.tailRate,
      tailSlices: cli.tailSlices,
      log,
    };
    const phases: PhaseResult[] = [];
    for (const scenario of cli.scenarios) phases.push(...(await runScenario(scenario, ctx)));

    const run: RunInfo = {
      startedAt,
      command: `node loadtest/bench.ts ${process.argv.slice(2).join(" ")}`.trim(),
      durationS: cli.durationS,
      warmupS: cli.warmupS,
      loadFractions: LOAD_FRACTIONS,
      valueBytes: VALUE_BYTES,
      topic: target.topic,
      partitions: target.partitions,
      brokers: target.brokers,
      ownKafka: target.ownKafka,
      gatewayUrl: target.gatewayUrl,
      gateways: target.gateways.length,
      lbUrl: target.lbUrl,
      gatewaySource: target.gatewaySource,
      targets: cli.targets.map((t) => t.url),
      targetNames: cli.targets.map((t) => t.name),
      machine: machineInfo(loadAvgStart),
    };
    const comparison = compare(phases, LOAD_FRACTIONS);
    process.stdout.write(cli.json ? `${toJsonLine(run, phases, comparison)}\n` : toText(run, phases, comparison));
    return 0;
  } catch (error) {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    log("stopping");
    await cleanup();
    log("done");
  }
}

process.exitCode = await main();
