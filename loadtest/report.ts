/** Turns phase results into the ratios against their ceilings, a readable table, and one JSON line. */
import type { PhaseResult, ScenarioName } from "./scenarios.ts";

export interface RunInfo {
  startedAt: string;
  command: string;
  durationS: number;
  warmupS: number;
  loadFraction: number;
  valueBytes: number;
  topic: string;
  partitions: number;
  brokers: number;
  ownKafka: boolean;
  gatewayUrl: string;
  /** Which gateway code ran: a commit, with or without uncommitted changes, or another entry point. */
  gatewaySource: string;
  machine: { cpus: number; cpuModel: string; loadAvgStart: number[]; loadAvgEnd: number[]; node: string };
}

export interface Ratio {
  what: string;
  wharf: number;
  ceiling: number;
  ratio: number;
}

export interface LatencyOverhead {
  what: string;
  wharfP99Ms: number;
  plainP99Ms: number;
  addedMs: number;
  ratio: number;
}

export interface Comparison {
  throughput: Ratio | null;
  requestRate: Ratio | null;
  latency: LatencyOverhead[];
}

const find = (phases: PhaseResult[], scenario: ScenarioName, phase: PhaseResult["phase"]) =>
  phases.find((p) => p.scenario === scenario && p.phase === phase);

export function compare(phases: PhaseResult[]): Comparison {
  const plainMax = find(phases, "producer", "max");
  const p100 = find(phases, "produce-100", "max");
  const p1 = find(phases, "produce-1", "max");
  const healthz = find(phases, "healthz", "max");
  const ratio = (what: string, wharf: number, ceiling: number): Ratio => ({
    what,
    wharf,
    ceiling,
    ratio: wharf / ceiling,
  });

  const latency: LatencyOverhead[] = [];
  for (const scenario of ["produce-1", "produce-100"] as const) {
    const p99 = find(phases, scenario, "fixed-rate")?.latencyMs?.p99;
    const baseline = find(phases, scenario, "same-rate");
    const plainP99 = baseline?.latencyMs?.p99;
    if (p99 === undefined || plainP99 === undefined || !baseline) continue;
    latency.push({
      what: `${scenario} p99 (open model) vs plain producer p99 at the same ${int(baseline.offeredPerSec)} records/s`,
      wharfP99Ms: p99,
      plainP99Ms: plainP99,
      addedMs: p99 - plainP99,
      ratio: p99 / plainP99,
    });
  }
  return {
    throughput:
      p100 && plainMax
        ? ratio("100-record produce records/s vs plain producer records/s", p100.recordsPerSec, plainMax.recordsPerSec)
        : null,
    requestRate:
      p1?.requestsPerSec && healthz?.requestsPerSec
        ? ratio("1-record produce requests/s vs GET /healthz requests/s", p1.requestsPerSec, healthz.requestsPerSec)
        : null,
    latency,
  };
}

export function toJsonLine(run: RunInfo, phases: PhaseResult[], comparison: Comparison): string {
  return JSON.stringify({ benchmark: "wharf-foundation", version: 1, run, phases, comparison });
}

const int = (n: number | null | undefined) =>
  n === null || n === undefined ? "-" : Math.round(n).toLocaleString("en");
const ms = (n: number | null | undefined) =>
  n === null || n === undefined ? "-" : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0);
const cores = (n: number | null | undefined) => (n === null || n === undefined ? "-" : n.toFixed(2));

function errors(p: PhaseResult): number {
  const c = p.counts;
  return (
    (c.httpError ?? 0) +
    (c.recordError ?? 0) +
    (c.transportError ?? 0) +
    (c.failed ?? 0) +
    (c.shed ?? 0) +
    (c.unfinished ?? 0)
  );
}

const PHASE_NAMES: Record<PhaseResult["phase"], string> = {
  max: "max (closed)",
  "fixed-rate": "fixed rate (open)",
  "same-rate": "fixed rate",
};
const phaseName = (p: PhaseResult) => `${p.label}, ${PHASE_NAMES[p.phase]}`;

/** CPU per acknowledged request and record, in the process that did the producing. */
export function cpuCost(p: PhaseResult): { perRequest: number | null; perRecord: number | null } {
  const cores = p.recordsPerRequest === null ? p.stats.generatorCpu : p.stats.gatewayCpu;
  if (cores === null) return { perRequest: null, perRecord: null };
  return {
    perRequest: p.requestsPerSec ? (cores * 1e6) / p.requestsPerSec : null,
    perRecord: p.recordsPerSec > 0 ? (cores * 1e6) / p.recordsPerSec : null,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
    )
    .join("\n");
}

export function toText(run: RunInfo, phases: PhaseResult[], comparison: Comparison): string {
  const lines: string[] = [];
  lines.push(
    `Wharf foundation benchmark, ${run.startedAt}`,
    `${run.brokers} broker(s)${run.ownKafka ? " started for this run" : " (reused)"}, 1 gateway at ${run.gatewayUrl}, ` +
      `topic with ${run.partitions} partitions, ${run.valueBytes} B values, acks=all, idempotent, linger.ms=2`,
    `${run.durationS} s per phase after ${run.warmupS} s warm-up; fixed-rate phases at ${run.loadFraction * 100}% ` +
      "of the saturation measured just before",
    `Machine: ${run.machine.cpus} x ${run.machine.cpuModel}, Node ${run.machine.node}, load average ` +
      `${run.machine.loadAvgStart.map((l) => l.toFixed(2)).join(" ")} at start, ` +
      `${run.machine.loadAvgEnd.map((l) => l.toFixed(2)).join(" ")} at end`,
    `Gateway: ${run.gatewaySource}`,
    "NOTE: the load generator runs on the same machine as Kafka and the gateway and competes with them for CPU.",
    "",
  );
  const loadRows = phases.map((p) => [
    phaseName(p),
    p.connections === null ? "-" : String(p.connections),
    int(p.offeredPerSec),
    int(p.requestsPerSec),
    int(p.recordsPerSec),
    ms(p.latencyMs?.p50),
    ms(p.latencyMs?.p99),
    ms(p.latencyMs?.p999),
    ms(p.latencyMs?.max),
    String(errors(p)),
    String(p.counts.throttled ?? 0),
    ms(p.maxSchedulerLagMs),
  ]);
  const loadHeader = ["phase", "conns", "offered/s", "req/s", "records/s"];
  loadHeader.push("p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "429", "gen lag ms");
  lines.push(table([loadHeader, ...loadRows]), "");

  const resourceRows = phases.map((p) => {
    const cost = cpuCost(p);
    return [
      phaseName(p),
      cores(p.stats.gatewayCpu),
      int(cost.perRequest),
      cost.perRecord === null ? "-" : cost.perRecord.toFixed(1),
      p.stats.gatewayRssPeakMiB === null ? "-" : p.stats.gatewayRssPeakMiB.toFixed(0),
      cores(p.stats.brokerCpu),
      cores(p.stats.generatorCpu),
      cores(p.stats.otherCpu),
      cores(p.stats.machineBusy),
    ];
  });
  const resourceHeader = ["phase", "gw CPU", "gw us/req", "us/record", "gw RSS MiB"];
  resourceHeader.push("kafka CPU", "gen CPU", "other CPU", "machine");
  lines.push(table([resourceHeader, ...resourceRows]), "");
  lines.push(
    "Latency: open-model phases only, from each request's intended send time (constant arrival rate), so a",
    "stall anywhere, the generator included (gen lag = its worst lateness), counts; closed-model service times",
    "are in the JSON (--json). CPU in cores (1.00 = one core busy all phase); RSS is the gateway's peak.",
    "us/record: CPU microseconds per acknowledged record in the producing process (the gateway for Wharf, this",
    "process for the plain producer). 'other' is CPU used by anything else on the box; 'machine' all of it.",
    "",
    "Wharf against its ceilings:",
  );
  const ratioLine = (r: Ratio | null, fallback: string) =>
    r
      ? `  ${r.what}: ${int(r.wharf)} / ${int(r.ceiling)} = ${r.ratio.toFixed(2)}`
      : `  ${fallback}: not measured (scenario skipped)`;
  lines.push(ratioLine(comparison.throughput, "100-record produce vs plain producer"));
  lines.push(ratioLine(comparison.requestRate, "1-record produce vs GET /healthz"));
  if (comparison.latency.length === 0) lines.push("  p99 latency vs plain producer: not measured (scenario skipped)");
  for (const l of comparison.latency) {
    lines.push(
      `  ${l.what}: ${ms(l.wharfP99Ms)} ms vs ${ms(l.plainP99Ms)} ms = ${l.addedMs >= 0 ? "+" : "-"}${ms(Math.abs(l.addedMs))} ms (${l.ratio.toFixed(1)}x)`,
    );
  }
  return `${lines.join("\n")}\n`;
}
