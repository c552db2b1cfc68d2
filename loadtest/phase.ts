/** What every scenario shares: its context, the shape of one measured phase, and the bounds. */
import { eventLoopLagWindow, type GcSummary, gcWindow, metricsText, sampleOf } from "./gateway-metrics.ts";
import type { OutcomeCounts } from "./http-request.ts";
import type { LatencySummary } from "./latency.ts";
import { monitorPhase, type PhaseStats } from "./process-stats.ts";
import type { Target } from "./target.ts";

export const SCENARIOS = [
  "producer",
  "healthz",
  "produce-1",
  "produce-100",
  "stream-v3",
  "consume",
  "forwarding",
  "scale-out",
  "lone",
  "peers",
  "fanout",
  "tail",
] as const;
/** Scenarios a run without --scenarios leaves out: "tail" repeats produce-1's 50% phase five times. */
export const OPT_IN_SCENARIOS: readonly ScenarioName[] = ["tail"];
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioContext {
  target: Target;
  value: Buffer;
  durationMs: number;
  warmupMs: number;
  /** Fixed-rate phases run at these fractions of the saturation just measured; the first one is
   * compared with the plain producer at the same record rate. */
  loadFractions: number[];
  /** Other Confluent-v2-compatible endpoints (--target) on the same Kafka, for the peers scenario. */
  peers: Peer[];
  /** The tail scenario's rate (requests/s); null: half of its own ramp's saturation. */
  tailRate?: number | null;
  /** The tail scenario cuts each round's Wharf and plain phases into this many alternating slices. */
  tailSlices?: number;
  log: (message: string) => void;
}

/** A --target: another v2 endpoint the peers scenario measures beside Wharf. */
export interface Peer {
  name: string;
  url: string;
  /** Its process, whose CPU then counts as the serving gateway's (null: not attributed). */
  pid: number | null;
}

export interface PhaseResult {
  scenario: ScenarioName;
  /**
   * "same-rate": the plain producer at the record rate the Wharf phase before it achieved.
   * "ramp": one step of the open-model ramp that finds the saturation the fixed rates derive from.
   * "lone": one client sending one request (or record) after another; latency is its wait.
   */
  phase: "max" | "ramp" | "fixed-rate" | "same-rate" | "lone";
  label: string;
  /** The peers scenario: which endpoint ("Wharf" or a --target) the phase measured. */
  endpoint?: string;
  /** Fixed-rate phases: the fraction of the saturation they offer; ramp steps: of the closed-model max. */
  loadFraction: number | null;
  /** Ramp steps: whether the target kept up (see sustained() in scenarios.ts). */
  sustained?: boolean;
  model: "closed" | "open";
  /** Records per HTTP request; null without HTTP (plain clients) or for a streamed request. */
  recordsPerRequest: number | null;
  connections: number | null;
  /** Open model: the arrival rate asked for (requests/s; records/s for records-only phases). */
  offeredPerSec: number | null;
  requestsPerSec: number | null;
  recordsPerSec: number;
  /** Open model: from each intended send time (closed-model latencies hide stalls). Consume
   * phases: from the record's intended produce time to its arrival in this process. */
  latencyMs: LatencySummary | null;
  /** Closed model: send-to-answer times at saturation, for information. */
  serviceTimeMs: LatencySummary | null;
  counts: Partial<OutcomeCounts> & { failed?: number; shed?: number; unfinished?: number };
  maxSchedulerLagMs: number | null;
  /** The serving gateway's event-loop delay p99 over the phase (from its /metrics). */
  eventLoopLagP99Ms: number | null;
  /** The serving gateway's garbage collection over the phase (absent in older runs). */
  gc?: GcSummary | null;
  /** Flushes the serving gateway started for a record that found its producer idle (sent at once). */
  idleFlushes?: number | null;
  /** The serving gateway's delivery reports over the phase: how many came over 10 / 25 ms after the send. */
  delivery?: DeliverySummary | null;
  stats: PhaseStats;
  /** The fan-out phases: streams asked for and open, the gateway's RSS per open stream. */
  fanout?: {
    streams: number;
    open: number;
    rssBeforeMiB: number | null;
    rssOpenMiB: number | null;
    rssPerStreamMiB: number | null;
    /** Events delivered over (records produced x open streams). */
    deliveredShare: number | null;
  };
}

/** Counts that bound every loop, far above what two cores reach in a phase. */
export const MAX_RECORDS = 20_000_000;
export const MAX_REQUESTS = 5_000_000;
export const MAX_OUTSTANDING = 20_000;
export const DRAIN_TIMEOUT_MS = 15_000;

export interface Measured<T> {
  result: T;
  stats: PhaseStats;
  eventLoopLagP99Ms: number | null;
  gc: GcSummary | null;
  idleFlushes: number | null;
  delivery: DeliverySummary | null;
}

const IDLE_FLUSHES = "wharf_producer_idle_flushes_total";
const DELIVERY = "wharf_delivery_latency_seconds";

/** The serving gateway's delivery reports (librdkafka's send to report) over a phase, by lateness. */
export interface DeliverySummary {
  records: number;
  over10ms: number;
  over25ms: number;
}

/** What a phase reads from the serving gateway's /metrics before and after it (one scrape each). */
interface Counters {
  idleFlushes: number | null;
  delivery: DeliverySummary | null;
}

async function counters(url: string): Promise<Counters> {
  const text = await metricsText(url);
  if (text === null) return { idleFlushes: null, delivery: null };
  const records = sampleOf(text, `${DELIVERY}_count`);
  const within10 = sampleOf(text, `${DELIVERY}_bucket`, "0.01");
  const within25 = sampleOf(text, `${DELIVERY}_bucket`, "0.025");
  return {
    idleFlushes: sampleOf(text, IDLE_FLUSHES),
    delivery:
      records === null || within10 === null || within25 === null
        ? null
        : { records, over10ms: records - within10, over25ms: records - within25 },
  };
}

/**
 * Runs one phase under /proc sampling. The gateway is the first one unless `gatewayPids` names
 * others (their CPU is summed); `lagOf` is the gateway whose event-loop lag counts (null: none).
 */
export async function measure<T>(
  ctx: ScenarioContext,
  run: () => Promise<T>,
  options: { gatewayPids?: number[]; lagOf?: string | null } = {},
): Promise<Measured<T>> {
  const lagUrl = options.lagOf === undefined ? ctx.target.gatewayUrl : options.lagOf;
  const first = ctx.target.gatewayPid;
  const gateways = options.gatewayPids ?? (first === null ? [] : [first]);
  const gc = lagUrl ? await gcWindow(lagUrl) : null;
  const before = lagUrl ? await counters(lagUrl) : null;
  // Every scrape resets prom-client's event-loop histogram: the lag window opens last and closes first.
  const lag = lagUrl ? await eventLoopLagWindow(lagUrl) : null;
  const monitor = monitorPhase({ gateways, brokers: ctx.target.brokerPids });
  const result = await run();
  const stats = monitor.stop();
  const eventLoopLagP99Ms = lag ? await lag.stop() : null;
  const after = lagUrl ? await counters(lagUrl) : null;
  const flushesBefore = before?.idleFlushes ?? null;
  const flushesAfter = after?.idleFlushes ?? null;
  const deliveredBefore = before?.delivery;
  const deliveredAfter = after?.delivery;
  return {
    result,
    stats,
    eventLoopLagP99Ms,
    gc: gc ? await gc.stop() : null,
    // An older gateway (a peer) has no such counter: null, not 0.
    idleFlushes: flushesBefore !== null && flushesAfter !== null ? flushesAfter - flushesBefore : null,
    delivery:
      deliveredBefore && deliveredAfter
        ? {
            records: deliveredAfter.records - deliveredBefore.records,
            over10ms: deliveredAfter.over10ms - deliveredBefore.over10ms,
            over25ms: deliveredAfter.over25ms - deliveredBefore.over25ms,
          }
        : null,
  };
}

export const rateAt = (saturation: number, fraction: number) => Math.max(1, Math.round(saturation * fraction));
