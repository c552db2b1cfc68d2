/**
 * The schema benchmark: `node loadtest/schema-bench.ts [--json] [--duration S]` (pnpm bench:schemas).
 * Starts one broker, the stack's schema registry and one gateway through deploy/stack, runs
 * schema-scenario.ts (avro against binary, produce and consume, same record size, same run),
 * prints the figures and ratios with the registry's request count, and stops what it started.
 */
import { randomBytes } from "node:crypto";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type StackInfo, startStack, stopStack } from "../deploy/stack/index.ts";
import type { ScenarioContext } from "./phase.ts";
import { type MachineInfo, machineInfo } from "./report.ts";
import { guardRun } from "./run-guard.ts";
import { RECORDS_PER_REQUEST, type SchemaPhase, schemaPhases } from "./schema-scenario.ts";
import { openTarget, type Target } from "./target.ts";

const USAGE = `usage: node loadtest/schema-bench.ts [options]
  --json          print one JSON line instead of the table (progress still goes to stderr)
  --duration S    seconds per produce phase (default 8)
  --warmup S      seconds of discarded warm-up before each produce phase (default 3)
  --records N     records each consume phase reads (default 50000, at most what was produced)
  --partitions N  partitions of the benchmark topics (default 3)
  --stack-dir D   state directory of the stack (default $TMPDIR/bench-schemas-<pid>)`;

const VALUE_BYTES = 1024;
const WATCHDOG_MS = 10 * 60_000;
/** Issue 14: avro produce at least 0.7 of binary produce's records/s. */
const AVRO_PRODUCE_TARGET = 0.7;

const started = performance.now();
const log = (message: string) => {
  process.stderr.write(
    `[schema-bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`,
  );
};

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: "boolean", default: false },
      duration: { type: "string", default: "8" },
      warmup: { type: "string", default: "3" },
      records: { type: "string", default: "50000" },
      partitions: { type: "string", default: "3" },
      "stack-dir": { type: "string" },
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
  return {
    json: values.json,
    durationS: number("duration", values.duration, 1, 600),
    warmupS: number("warmup", values.warmup, 0, 60),
    records: number("records", values.records, 1, 10_000_000),
    partitions: number("partitions", values.partitions, 1, 100),
    stackDir: values["stack-dir"] ?? join(tmpdir(), `bench-schemas-${process.pid}`),
  };
}

interface Ratio {
  name: string;
  value: number | null;
  target: number | null;
}

function ratios(phases: SchemaPhase[]): Ratio[] {
  const rate = (name: string) => phases.find((p) => p.name === name)?.recordsPerSec ?? null;
  // Records per gateway CPU second: what the rate ratio would be if the gateway alone were the
  // bottleneck; steadier than the rates on a machine others share.
  const perCpu = (name: string) => {
    const us = phases.find((p) => p.name === name)?.gatewayUsPerRecord ?? null;
    return us === null || us === 0 ? null : 1e6 / us;
  };
  const over = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
  const mean = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : (a + b) / 2);
  // Against the mean of the binary phases before and after the avro ones.
  const binary = mean(rate("v2 produce 100, binary"), rate("v2 produce 100, binary (again)"));
  const binaryPerCpu = mean(perCpu("v2 produce 100, binary"), perCpu("v2 produce 100, binary (again)"));
  return [
    {
      name: "avro produce (schema id) / binary produce (mean of both)",
      value: over(rate("v2 produce 100, avro (schema id)"), binary),
      target: AVRO_PRODUCE_TARGET,
    },
    {
      name: "avro produce (inline schema) / binary produce (mean of both)",
      value: over(rate("v2 produce 100, avro (inline schema)"), binary),
      target: AVRO_PRODUCE_TARGET,
    },
    {
      name: "avro consume / binary consume",
      value: over(rate("v2 consume, avro"), rate("v2 consume, binary")),
      target: null,
    },
    {
      name: "per gateway CPU: avro produce (schema id) / binary",
      value: over(perCpu("v2 produce 100, avro (schema id)"), binaryPerCpu),
      target: null,
    },
    {
      name: "per gateway CPU: avro consume / binary",
      value: over(perCpu("v2 consume, avro"), perCpu("v2 consume, binary")),
      target: null,
    },
  ];
}

const int = (n: number | null) => (n === null ? "-" : Math.round(n).toLocaleString("en-US"));
const fixed = (n: number | null, digits = 1) => (n === null ? "-" : n.toFixed(digits));

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  "))
    .join("\n");
}

function toText(run: Record<string, unknown>, phases: SchemaPhase[]): string {
  const rows = [
    [
      "phase",
      "records/s",
      "req/s",
      "records",
      "errors",
      "p50 ms",
      "p99 ms",
      "gw us/rec",
      "gw cpu",
      "other cpu",
      "registry req",
      "gw->registry",
    ],
    ...phases.map((p) => [
      p.name,
      int(p.recordsPerSec),
      int(p.requestsPerSec),
      int(p.records),
      String(p.errors),
      fixed(p.serviceP50Ms),
      fixed(p.serviceP99Ms),
      fixed(p.gatewayUsPerRecord),
      fixed(p.stats.gatewayCpu, 2),
      fixed(p.stats.otherCpu, 2),
      p.registryRequests === null ? "-" : String(p.registryRequests),
      p.gatewayRegistryRequests === null ? "-" : String(p.gatewayRegistryRequests),
    ]),
  ];
  const ratioRows = [
    ["ratio", "value", "target", ""],
    ...ratios(phases).map((r) => [
      r.name,
      fixed(r.value, 2),
      r.target === null ? "-" : `>= ${r.target}`,
      r.target === null || r.value === null ? "" : r.value >= r.target ? "met" : "NOT MET",
    ]),
  ];
  const machine = run.machine as MachineInfo;
  return [
    `Wharf schema benchmark, ${run.startedAt}: ${run.command}`,
    `1 broker, 1 gateway, the stack's schema registry at ${run.registryUrl}; ${VALUE_BYTES} B values ` +
      `(avro: a long and a string of the same encoded size), ${RECORDS_PER_REQUEST} records per request, ` +
      `closed model with 16 connections, ${run.durationS} s per produce phase after ${run.warmupS} s warm-up`,
    `Machine: ${machine.cpus} x ${machine.cpuModel}, load average ${machine.loadAvgStart.map((l) => l.toFixed(2)).join(" ")} ` +
      `at start, ${machine.loadAvgEnd.map((l) => l.toFixed(2)).join(" ")} at end`,
    "registry req: requests the registry received during the phase (GET /_standin/metrics); " +
      "gw->registry: the gateway's wharf_schema_registry_requests_total over the phase",
    "",
    table(rows),
    "",
    table(ratioRows),
    "",
  ].join("\n");
}

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`schema-bench: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let info: StackInfo | null = null;
  let target: Target | null = null;
  let closing: Promise<void> | null = null;
  const cleanup = () => {
    closing ??= (async () => {
      await target?.close().catch(() => {});
      if (info) await stopStack(cli.stackDir);
    })();
    return closing;
  };
  guardRun(cleanup, log, WATCHDOG_MS);

  const startedAt = new Date().toISOString();
  const loadAvgStart = loadavg();
  try {
    info = await startStack({
      brokers: 1,
      gateways: 1,
      lb: false,
      gatewayPort: 0,
      schemaRegistry: true,
      dir: cli.stackDir,
      log: (message) => log(`[stack] ${message}`),
    });
    const registryUrl = info.schemaRegistry;
    const gateway = info.gateways[0];
    if (!registryUrl || !gateway) throw new Error("the stack started no schema registry or no gateway");
    // The stack is ours; openTarget only makes the topic (and deletes it at close).
    const opened = await openTarget({
      kafka: info.kafka,
      gateway: gateway.url,
      gatewayPid: gateway.pid,
      partitions: cli.partitions,
      gateways: 1,
      stackDir: cli.stackDir,
      log,
    });
    target = { ...opened, brokerPids: info.brokers.map((b) => b.pid), ownKafka: true };
    const scenario: ScenarioContext = {
      target,
      value: randomBytes(VALUE_BYTES),
      durationMs: cli.durationS * 1000,
      warmupMs: cli.warmupS * 1000,
      loadFractions: [],
      peers: [],
      log,
    };
    const phases = await schemaPhases({ scenario, registryUrl, consumeRecords: cli.records });
    const run = {
      startedAt,
      command: `node loadtest/schema-bench.ts ${process.argv.slice(2).join(" ")}`.trim(),
      durationS: cli.durationS,
      warmupS: cli.warmupS,
      valueBytes: VALUE_BYTES,
      partitions: cli.partitions,
      registryUrl,
      gatewayUrl: gateway.url,
      machine: machineInfo(loadAvgStart),
    };
    process.stdout.write(
      cli.json ? `${JSON.stringify({ run, phases, ratios: ratios(phases) })}\n` : toText(run, phases),
    );
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
