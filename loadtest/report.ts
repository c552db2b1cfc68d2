/** Turns phase results into the ratios against their ceilings, a readable table, and one JSON line. */

import os from "node:os";
import { WHARF_ENDPOINT } from "./peers-scenario.ts";
import type { PhaseResult, ScenarioName } from "./scenarios.ts";
import { tailRounds } from "./tail-scenario.ts";

export interface RunInfo {
  startedAt: string;
  command: string;
  durationS: number;
  warmupS: number;
  loadFractions: number[];
  valueBytes: number;
  topic: string;
  partitions: number;
  brokers: number;
  ownKafka: boolean;
  gatewayUrl: string;
  gateways: number;
  lbUrl: string | null;
  /** Which gateway code ran: a commit, with or without uncommitted changes, or another entry point. */
  gatewaySource: string;
  /** --target endpoints the peers scenario measured beside Wharf. */
  targets?: string[];
  /** Their names in the report, in the same order (absent in older runs). */
  targetNames?: string[];
  machine: MachineInfo;
}

/** The machine a run was measured on, with the load average at its start and end. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  loadAvgStart: number[];
  loadAvgEnd: number[];
  node: string;
}

/** Taken at the end of a run; `loadAvgStart` was read when it began. */
export function machineInfo(loadAvgStart: number[]): MachineInfo {
  const cores = os.cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model ?? "unknown",
    loadAvgStart,
    loadAvgEnd: os.loadavg(),
    node: process.version,
  };
}

/** A Wharf figure as a fraction of its ceiling measured in the same run. */
export interface Ratio {
  what: string;
  wharf: number;
  ceiling: number;
  ratio: number;
}

/** A figure against the issue's target: met, not met, or not measured in this run. */
export interface Check {
  what: string;
  value: number | null;
  target: string;
  met: boolean | null;
  detail: string;
}

export interface Comparison {
  ratios: Ratio[];
  checks: Check[];
}

type Pick = { scenario: ScenarioName; phase: PhaseResult["phase"]; fraction?: number; label?: string };

const find = (phases: PhaseResult[], q: Pick) =>
  phases.find(
    (p) =>
      p.scenario === q.scenario &&
      p.phase === q.phase &&
      (q.fraction === undefined || p.loadFraction === q.fraction) &&
      (q.label === undefined || p.label.includes(q.label)),
  );

export function compare(phases: PhaseResult[], loadFractions: number[]): Comparison {
  const [half = 0.5, high = 0.9] = loadFractions;
  const get = (q: Pick) => find(phases, q);
  const ratios: Ratio[] = [];
  const checks: Check[] = [];
  const ratio = (what: string, wharf: number | null | undefined, ceiling: number | null | undefined) => {
    if (!wharf || !ceiling) return null;
    const r = { what, wharf, ceiling, ratio: wharf / ceiling };
    ratios.push(r);
    return r;
  };
  const check = (what: string, value: number | null, target: string, met: boolean | null, detail: string) =>
    checks.push({ what, value, target, met: value === null ? null : met, detail });

  const plainMax = get({ scenario: "producer", phase: "max" })?.recordsPerSec;
  const p100 = ratio(
    "100-record produce records/s vs plain producer",
    get({ scenario: "produce-100", phase: "max" })?.recordsPerSec,
    plainMax,
  );
  check(
    "100-record produce / plain producer records/s",
    p100?.ratio ?? null,
    ">= 0.85",
    (p100?.ratio ?? 0) >= 0.85,
    p100 ? `${int(p100.wharf)} / ${int(p100.ceiling)}` : "",
  );
  const p1 = ratio(
    "1-record produce requests/s vs GET /healthz requests/s",
    get({ scenario: "produce-1", phase: "max" })?.requestsPerSec,
    get({ scenario: "healthz", phase: "max" })?.requestsPerSec,
  );
  check(
    "1-record produce / empty request rate",
    p1?.ratio ?? null,
    ">= 0.35",
    (p1?.ratio ?? 0) >= 0.35,
    p1 ? `${int(p1.wharf)} / ${int(p1.ceiling)} req/s` : "",
  );
  ratio(
    "v3 streamed records/s vs plain producer",
    get({ scenario: "stream-v3", phase: "max" })?.recordsPerSec,
    plainMax,
  );
  const consumeRatio = ratio(
    "v2 consume records/s vs plain consumer",
    get({ scenario: "consume", phase: "max", label: "v2" })?.recordsPerSec,
    get({ scenario: "consume", phase: "max", label: "plain" })?.recordsPerSec,
  );
  check(
    "v2 consume (binary, 1 KiB) / plain consumer records/s",
    consumeRatio?.ratio ?? null,
    ">= 0.7",
    (consumeRatio?.ratio ?? 0) >= 0.7,
    consumeRatio ? `${int(consumeRatio.wharf)} / ${int(consumeRatio.ceiling)}` : "",
  );
  const overHttp = get({ scenario: "consume", phase: "fixed-rate", label: "v2 produce ->" });
  if (overHttp?.latencyMs) {
    check(
      "end to end, v2 produce -> long-polling v2 consumer, p99",
      overHttp.latencyMs.p99,
      "(no target)",
      null,
      `p50 ${ms(overHttp.latencyMs.p50)} ms, p99 ${ms(overHttp.latencyMs.p99)} ms, p99.9 ${ms(overHttp.latencyMs.p999)} ms at ${int(overHttp.offeredPerSec)} records/s`,
    );
  }

  for (const scenario of ["produce-1", "produce-100"] as const) {
    const wharf = get({ scenario, phase: "fixed-rate", fraction: half })?.latencyMs?.p99;
    const plain = get({ scenario, phase: "same-rate" });
    const added = wharf !== undefined && plain?.latencyMs ? wharf - plain.latencyMs.p99 : null;
    check(
      `${scenario} p99 added over plain producer at ${half * 100}% load`,
      added,
      "<= 5 ms",
      added !== null && added <= 5,
      added === null
        ? ""
        : `${ms(wharf)} ms vs ${ms(plain?.latencyMs?.p99)} ms at ${int(plain?.offeredPerSec)} records/s`,
    );
  }
  const e2ePlain = get({ scenario: "consume", phase: "fixed-rate", label: "plain" })?.latencyMs;
  const e2eV2 = get({ scenario: "consume", phase: "fixed-rate", label: "v2" })?.latencyMs;
  if (e2ePlain && e2eV2) {
    check(
      "v2 poll end-to-end p99 added over plain consumer",
      e2eV2.p99 - e2ePlain.p99,
      "(no target)",
      null,
      `p50 ${ms(e2eV2.p50)} vs ${ms(e2ePlain.p50)} ms, p99 ${ms(e2eV2.p99)} vs ${ms(e2ePlain.p99)} ms`,
    );
  }

  loneChecks(get, check);
  tailChecks(phases, check);
  for (const p of phases.filter((x) => x.scenario === "fanout" && x.fanout)) {
    const f = p.fanout as NonNullable<PhaseResult["fanout"]>;
    check(
      `${p.label.replace("SSE topic stream fan-out", "SSE fan-out")}: events/s delivered`,
      p.recordsPerSec,
      "(no target)",
      null,
      `${f.open} open, ${int(p.offeredPerSec)} records/s produced, ${f.deliveredShare === null ? "-" : (f.deliveredShare * 100).toFixed(1)}% delivered, ` +
        `gateway RSS ${f.rssPerStreamMiB === null ? "-" : f.rssPerStreamMiB.toFixed(2)} MiB per stream (${int(f.rssBeforeMiB)} -> ${int(f.rssOpenMiB)} MiB), ` +
        `one stream's latency p50 ${ms(p.latencyMs?.p50)} / p99 ${ms(p.latencyMs?.p99)} ms`,
    );
  }
  for (const row of peerRows(phases)) {
    if (row.endpoint === WHARF_ENDPOINT || row.ratio === null || !row.recordsPerSec) continue;
    // As every ratio here: Wharf's figure over the other one (the table shows the peer over Wharf).
    ratios.push({
      what: `${row.request} records/s, Wharf vs ${row.endpoint}`,
      wharf: row.wharfRecordsPerSec as number,
      ceiling: row.recordsPerSec as number,
      ratio: (row.wharfRecordsPerSec as number) / (row.recordsPerSec as number),
    });
  }

  const owner = get({ scenario: "forwarding", phase: "fixed-rate", label: "assignments via owner" })?.latencyMs;
  const other = get({ scenario: "forwarding", phase: "fixed-rate", label: "assignments via non-owner" })?.latencyMs;
  for (const [q, limit] of [
    ["p50", 1],
    ["p99", 2],
  ] as const) {
    const added = owner && other ? other[q] - owner[q] : null;
    check(
      `forwarding adds (${q}, GET assignments, non-owner vs owner)`,
      added,
      `<= ${limit} ms`,
      added !== null && added <= limit,
      added === null ? "" : `${ms(other?.[q])} vs ${ms(owner?.[q])} ms`,
    );
  }
  const e2eOwner = get({ scenario: "forwarding", phase: "fixed-rate", label: "poll via owner" })?.latencyMs;
  const e2eOther = get({ scenario: "forwarding", phase: "fixed-rate", label: "poll via non-owner" })?.latencyMs;
  if (e2eOwner && e2eOther) {
    check(
      "forwarding adds (end to end p50 / p99, poll)",
      e2eOther.p50 - e2eOwner.p50,
      "(no target)",
      null,
      `p50 ${ms(e2eOther.p50)} vs ${ms(e2eOwner.p50)} ms, p99 ${ms(e2eOther.p99)} vs ${ms(e2eOwner.p99)} ms`,
    );
  }

  for (const scenario of ["produce-1", "produce-100", "stream-v3"] as const) {
    const lag = get({ scenario, phase: "fixed-rate", fraction: high })?.eventLoopLagP99Ms ?? null;
    check(
      `${scenario} gateway event-loop lag p99 at ${high * 100}% load`,
      lag,
      "< 20 ms",
      lag !== null && lag < 20,
      lag === null ? "" : `${ms(lag)} ms`,
    );
  }

  // "3 gateways" only when the stack had three: the labels name the count the run used.
  for (const records of ["1 record", "100 records"]) {
    for (const how of ["direct", "via haproxy"]) {
      const one = get({ scenario: "scale-out", phase: "max", label: `${records}, 1 gateway` });
      const many = get({ scenario: "scale-out", phase: "max", label: `${records}, 3 gateways ${how}` });
      const r = ratio(`produce (${records}) 3 gateways ${how} vs 1 gateway`, many?.recordsPerSec, one?.recordsPerSec);
      check(
        `3 gateways ${how} / 1 gateway produce (${records})`,
        r?.ratio ?? null,
        "> 2",
        (r?.ratio ?? 0) > 2,
        one && many
          ? `${int(many.recordsPerSec)} vs ${int(one.recordsPerSec)} records/s; machine busy ${cores(many.stats.machineBusy)} of ${os.availableParallelism()} cores, broker ${cores(many.stats.brokerCpu)} (1 gateway: ${cores(one.stats.machineBusy)}, broker ${cores(one.stats.brokerCpu)})`
          : "",
      );
    }
  }
  return { ratios, checks };
}

/** The tail scenario's rounds: the 50%-load target in each, beside what HTTP alone added. */
function tailChecks(
  phases: PhaseResult[],
  check: (...a: [string, number | null, string, boolean | null, string]) => void,
) {
  const rounds = tailRounds(phases);
  if (rounds.length === 0) return;
  const met = rounds.filter((r) => r.addedMs <= 5).length;
  check(
    "tail: rounds with 1-record p99 added <= 5 ms at 50% load",
    met,
    `${rounds.length} of ${rounds.length}`,
    met === rounds.length,
    rounds
      .map(
        (r) =>
          `#${r.round} ${r.addedMs >= 0 ? "+" : ""}${ms(r.addedMs)} (healthz ${r.httpAddedMs >= 0 ? "+" : ""}${ms(r.httpAddedMs)}, other ${cores(r.otherCpu)})`,
      )
      .join("; "),
  );
}

/**
 * The lone request against the plain producer's one-record loop with the same settings, and where
 * its time goes: each piece was measured on its own in the same run.
 */
function loneChecks(
  get: (q: Pick) => PhaseResult | undefined,
  check: (what: string, value: number | null, target: string, met: boolean | null, detail: string) => void,
) {
  const plain = get({ scenario: "lone", phase: "lone", label: "plain producer, one" })?.latencyMs;
  const eager = get({ scenario: "lone", phase: "lone", label: "linger.ms=0" })?.latencyMs;
  const healthz = get({ scenario: "lone", phase: "lone", label: "GET /healthz" })?.latencyMs;
  const decode = get({ scenario: "lone", phase: "lone", label: "JSON.parse" })?.latencyMs;
  const wharf = get({ scenario: "lone", phase: "lone", label: "v2 produce" })?.latencyMs;
  for (const q of ["p50", "p99"] as const) {
    const added = wharf && plain ? wharf[q] - plain[q] : null;
    check(
      `lone 1-record request ${q} added over the plain producer's loop`,
      added,
      "<= 1 ms",
      added !== null && added <= 1,
      added === null
        ? ""
        : `${ms(wharf?.[q])} vs ${ms(plain?.[q])} ms (p99.9 ${ms(wharf?.p999)} vs ${ms(plain?.p999)})`,
    );
  }
  if (plain && eager && healthz && decode && wharf) {
    check(
      "lone request p50 breakdown",
      wharf.p50,
      "(no target)",
      null,
      `acks=all round trip + binding ${ms(eager.p50)} ms, linger ${ms(plain.p50 - eager.p50)} ms, ` +
        `empty HTTP ${ms(healthz.p50)} ms, JSON + base64 ${ms(decode.p50)} ms, ` +
        `rest ${ms(wharf.p50 - eager.p50 - healthz.p50 - decode.p50)} ms`,
    );
  }
}

export interface PeerRow {
  request: string;
  endpoint: string;
  requestsPerSec: number | null;
  recordsPerSec: number | null;
  wharfRecordsPerSec: number | null;
  /** This endpoint's closed-model records/s over Wharf's (Wharf's own row: 1). */
  ratio: number | null;
  /** CPU microseconds per acknowledged record in the endpoint's process at its maximum (null: its
   * pid was not given), and the same over Wharf's. */
  usPerRecord: number | null;
  cpuRatio: number | null;
  /** Requests of the maximum and of the common-rate phase that were not acknowledged in full. */
  errors: number;
  /** The open-model phase at the common rate. */
  rate: number | null;
  p50: number | null;
  p99: number | null;
  p999: number | null;
}

/** One row per request kind and endpoint of the peers scenario. */
export function peerRows(phases: PhaseResult[]): PeerRow[] {
  const peerPhases = phases.filter((p) => p.scenario === "peers" && p.endpoint !== undefined);
  const rows: PeerRow[] = [];
  for (const max of peerPhases.filter((p) => p.phase === "max")) {
    const endpoint = max.endpoint as string;
    const request = max.label.slice(endpoint.length + 2);
    const wharf = peerPhases.find(
      (p) => p.phase === "max" && p.endpoint === WHARF_ENDPOINT && p.label.endsWith(request),
    );
    const open = peerPhases.find((p) => p.phase === "fixed-rate" && p.label === max.label);
    const usPerRecord = cpuCost(max).perRecord;
    const wharfUs = wharf ? cpuCost(wharf).perRecord : null;
    rows.push({
      request,
      endpoint,
      requestsPerSec: max.requestsPerSec,
      recordsPerSec: max.recordsPerSec,
      wharfRecordsPerSec: wharf?.recordsPerSec ?? null,
      ratio: wharf?.recordsPerSec ? max.recordsPerSec / wharf.recordsPerSec : null,
      usPerRecord,
      cpuRatio: usPerRecord !== null && wharfUs ? usPerRecord / wharfUs : null,
      errors: errors(max) + (open ? errors(open) : 0),
      rate: open?.offeredPerSec ?? null,
      p50: open?.latencyMs?.p50 ?? null,
      p99: open?.latencyMs?.p99 ?? null,
      p999: open?.latencyMs?.p999 ?? null,
    });
  }
  return rows;
}

export function toJsonLine(run: RunInfo, phases: PhaseResult[], comparison: Comparison): string {
  return JSON.stringify({ benchmark: "wharf", version: 2, run, phases, comparison });
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
  ramp: "ramp (open)",
  "fixed-rate": "fixed rate (open)",
  "same-rate": "fixed rate",
  lone: "lone client",
};
export const phaseName = (p: PhaseResult) =>
  `${p.label}, ${PHASE_NAMES[p.phase]}${p.loadFraction === null ? "" : ` ${Math.round(p.loadFraction * 100)}%`}` +
  (p.sustained === false ? " (not kept up)" : "");

/**
 * CPU per acknowledged request and record, in the process that did the work: the gateway for
 * anything sent over HTTP (a streamed request or a v2 consumer has no records-per-request but
 * holds a connection), this process for the plain librdkafka clients.
 */
export function cpuCost(p: PhaseResult): { perRequest: number | null; perRecord: number | null } {
  const viaGateway = p.recordsPerRequest !== null || p.connections !== null;
  const cores = viaGateway ? p.stats.gatewayCpu : p.stats.generatorCpu;
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
    `${run.brokers} broker(s)${run.ownKafka ? " started for this run" : " (reused)"}, ${run.gateways} gateway(s), ` +
      `single-gateway scenarios on ${run.gatewayUrl}${run.lbUrl ? `, haproxy at ${run.lbUrl}` : ""}, ` +
      `topic with ${run.partitions} partitions, ${run.valueBytes} B values, acks=all, idempotent, linger.ms=2`,
    `${run.durationS} s per phase after ${run.warmupS} s warm-up; fixed-rate phases at ${run.loadFractions.map((f) => `${f * 100}%`).join(" and ")} ` +
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
    ms(p.eventLoopLagP99Ms),
  ]);
  const loadHeader = ["phase", "conns", "offered/s", "req/s", "records/s"];
  loadHeader.push("p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "429", "gen lag ms", "gw loop p99");
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
      p.gc ? `${p.gc.totalMs.toFixed(0)}/${p.gc.pauses}/${p.gc.over10ms}` : "-",
      p.idleFlushes === undefined || p.idleFlushes === null ? "-" : int(p.idleFlushes),
    ];
  });
  const resourceHeader = ["phase", "gw CPU", "gw us/req", "us/record", "gw RSS MiB"];
  resourceHeader.push("kafka CPU", "gen CPU", "other CPU", "machine", "gw GC ms/n/>10ms", "idle flushes");
  lines.push(table([resourceHeader, ...resourceRows]), "");
  lines.push(
    "Latency: open-model phases only, from each request's intended send time (constant arrival rate), so a",
    "stall anywhere, the generator included (gen lag = its worst lateness), counts; closed-model service times",
    "are in the JSON (--json). CPU in cores (1.00 = one core busy all phase); RSS is the gateway's peak.",
    "us/record: CPU microseconds per record produced or consumed, in the process that did it (the gateway for",
    "Wharf, this process for the plain clients). 'other' is CPU used by anything else on the box; 'machine' all of it.",
    "gw GC: the serving gateway's garbage collection over the phase: total pause ms / pauses / pauses over 10 ms.",
    "idle flushes: records that found the gateway's producer idle and were sent at once (produce.idle.flush.ms).",
    "",
    "Wharf against its ceilings (same run):",
  );
  for (const r of comparison.ratios) {
    lines.push(`  ${r.what}: ${int(r.wharf)} / ${int(r.ceiling)} = ${r.ratio.toFixed(2)}`);
  }
  const peers = peerRows(phases);
  if (peers.length > 0) {
    lines.push("", "Wharf beside its peers (closed-model max; latency from the open-model phase at the common rate):");
    lines.push(
      table([
        [
          "request",
          "endpoint",
          "req/s",
          "records/s",
          "x Wharf",
          "us/record",
          "x Wharf",
          "errors",
          "at req/s",
          "p50 ms",
          "p99 ms",
          "p99.9 ms",
        ],
        ...peers.map((r) => [
          r.request,
          r.endpoint,
          int(r.requestsPerSec),
          int(r.recordsPerSec),
          r.ratio === null ? "-" : r.ratio.toFixed(2),
          r.usPerRecord === null ? "-" : r.usPerRecord.toFixed(1),
          r.cpuRatio === null ? "-" : r.cpuRatio.toFixed(2),
          String(r.errors),
          int(r.rate),
          ms(r.p50),
          ms(r.p99),
          ms(r.p999),
        ]),
      ]),
      "us/record: CPU microseconds per acknowledged record in the endpoint's process ('-': no --target-pid);",
      "errors: requests of both phases not acknowledged in full (an HTTP error or a record without an offset).",
    );
  }
  lines.push("", "Targets:");
  const verdict = (c: Check) =>
    c.met === null ? (c.value === null ? "NOT MEASURED" : "info") : c.met ? "met" : "NOT MET";
  lines.push(
    table([
      ["figure", "value", "target", "verdict", "detail"],
      ...comparison.checks.map((c) => [
        c.what,
        c.value === null ? "-" : c.value.toFixed(2),
        c.target,
        verdict(c),
        c.detail,
      ]),
    ]),
  );
  return `${lines.join("\n")}\n`;
}
