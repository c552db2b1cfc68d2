/**
 * The scenarios, each a short series of phases against one target. A scenario measures its own
 * saturation first and derives its fixed-rate load from it, so every run is self-calibrating.
 */
import { Pool } from "undici";
import { runClosedModel } from "./closed-model.ts";
import { healthzRequest, type OutcomeCounts, produceV2Request, type RequestSpec } from "./http-request.ts";
import type { LatencySummary } from "./latency.ts";
import { runOpenModel } from "./open-model.ts";
import { createPlainProducer, type PlainProducer } from "./plain-producer.ts";
import { monitorPhase, type PhaseStats, type Watched } from "./process-stats.ts";
import type { Target } from "./target.ts";

export interface ScenarioContext {
  target: Target;
  value: Buffer;
  durationMs: number;
  warmupMs: number;
  /** Fixed-rate phases run at this fraction of the saturation just measured. */
  loadFraction: number;
  log: (message: string) => void;
}

export interface PhaseResult {
  scenario: ScenarioName;
  /** "same-rate": the plain producer at the record rate the Wharf phase before it achieved. */
  phase: "max" | "fixed-rate" | "same-rate";
  label: string;
  model: "closed" | "open";
  /** Records per HTTP request; null for the plain producer (no HTTP). */
  recordsPerRequest: number | null;
  connections: number | null;
  /** Open model: the arrival rate asked for (requests/s; records/s for the plain producer). */
  offeredPerSec: number | null;
  requestsPerSec: number | null;
  recordsPerSec: number;
  /** Measured from each intended send time (open model only; closed-model latencies hide stalls). */
  latencyMs: LatencySummary | null;
  /** Closed model: send-to-answer times at saturation, for information. */
  serviceTimeMs: LatencySummary | null;
  counts: Partial<OutcomeCounts> & { failed?: number; shed?: number; unfinished?: number };
  maxSchedulerLagMs: number | null;
  stats: PhaseStats;
}

export const SCENARIOS = ["producer", "healthz", "produce-1", "produce-100"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Enough connections to saturate each request size on two cores without drowning the generator. */
const CONNECTIONS = { healthz: 64, "produce-1": 128, "produce-100": 16 } as const;
/** Counts that bound every loop, far above what two cores reach in a phase. */
const MAX_RECORDS = 20_000_000;
const MAX_REQUESTS = 5_000_000;
const PRODUCER_WINDOW = 20_000;
const MAX_OUTSTANDING = 20_000;
const DRAIN_TIMEOUT_MS = 15_000;

export async function runScenario(name: ScenarioName, ctx: ScenarioContext): Promise<PhaseResult[]> {
  switch (name) {
    case "producer":
      return plainProducer(ctx);
    case "healthz":
      return http(ctx, name, healthzRequest(), false);
    case "produce-1":
      return http(ctx, name, produceV2Request(ctx.target.topic, ctx.value, 1), true);
    case "produce-100":
      return http(ctx, name, produceV2Request(ctx.target.topic, ctx.value, 100), true);
  }
}

function watched(ctx: ScenarioContext): Watched {
  return { gateway: ctx.target.gatewayPid, brokers: ctx.target.brokerPids };
}

async function measured<T>(ctx: ScenarioContext, run: () => Promise<T>): Promise<[T, PhaseStats]> {
  const monitor = monitorPhase(watched(ctx));
  const result = await run();
  return [result, monitor.stop()];
}

async function plainProducer(ctx: ScenarioContext): Promise<PhaseResult[]> {
  const { target, durationMs } = ctx;
  const producer = await createPlainProducer(target.kafka, target.topic, ctx.value);
  try {
    const bounds = { maxRecords: MAX_RECORDS, window: PRODUCER_WINDOW, drainTimeoutMs: DRAIN_TIMEOUT_MS };
    ctx.log(`producer: warm-up ${ctx.warmupMs / 1000} s`);
    await producer.maxThroughput({ ...bounds, durationMs: ctx.warmupMs });

    ctx.log(`producer: max throughput, ${durationMs / 1000} s, window ${PRODUCER_WINDOW} records`);
    const [max, maxStats] = await measured(ctx, () => producer.maxThroughput({ ...bounds, durationMs }));
    const rate = Math.max(1, Math.round(max.recordsPerSec * ctx.loadFraction));
    ctx.log(`producer: ${Math.round(max.recordsPerSec)} records/s; fixed rate ${rate} records/s`);
    return [
      {
        ...plainBase("producer", "plain librdkafka producer"),
        phase: "max",
        model: "closed",
        offeredPerSec: null,
        recordsPerSec: max.recordsPerSec,
        latencyMs: null,
        counts: { ok: max.delivered, failed: max.failed },
        maxSchedulerLagMs: null,
        stats: maxStats,
      },
      await plainFixedRate(ctx, producer, "producer", "plain librdkafka producer", "fixed-rate", rate),
    ];
  } finally {
    await producer.close();
  }
}

const plainBase = (scenario: ScenarioName, label: string) =>
  ({ scenario, label, recordsPerRequest: null, connections: null, requestsPerSec: null, serviceTimeMs: null }) as const;

async function plainFixedRate(
  ctx: ScenarioContext,
  producer: PlainProducer,
  scenario: ScenarioName,
  label: string,
  phase: "fixed-rate" | "same-rate",
  ratePerSec: number,
): Promise<PhaseResult> {
  const [fixed, stats] = await measured(ctx, () =>
    producer.fixedRate({
      ratePerSec,
      durationMs: ctx.durationMs,
      maxRecords: MAX_RECORDS,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
    }),
  );
  return {
    ...plainBase(scenario, label),
    phase,
    model: "open",
    offeredPerSec: fixed.offeredPerSec,
    recordsPerSec: fixed.achievedPerSec,
    latencyMs: fixed.latencyMs,
    counts: { ok: fixed.delivered, failed: fixed.failed, unfinished: fixed.unfinished },
    maxSchedulerLagMs: fixed.maxSchedulerLagMs,
    stats,
  };
}

/**
 * The latency baseline for a Wharf open-model phase: the plain producer at the same record rate,
 * so the difference is what Wharf adds, not what a different load does to Kafka.
 */
async function sameRateBaseline(ctx: ScenarioContext, scenario: ScenarioName, recordsPerSec: number) {
  const rate = Math.max(1, Math.round(recordsPerSec));
  ctx.log(`${scenario}: plain producer at the same ${rate} records/s`);
  const producer = await createPlainProducer(ctx.target.kafka, ctx.target.topic, ctx.value);
  try {
    return await plainFixedRate(ctx, producer, scenario, `plain producer at ${scenario} rate`, "same-rate", rate);
  } finally {
    await producer.close();
  }
}

async function http(
  ctx: ScenarioContext,
  name: Exclude<ScenarioName, "producer">,
  request: RequestSpec,
  withFixedRate: boolean,
): Promise<PhaseResult[]> {
  const connections = CONNECTIONS[name];
  const pool = new Pool(ctx.target.gatewayUrl, {
    connections,
    pipelining: 1,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  try {
    const closed = { pool, request, concurrency: connections, maxRequests: MAX_REQUESTS };
    ctx.log(`${name}: warm-up ${ctx.warmupMs / 1000} s`);
    await runClosedModel({ ...closed, durationMs: ctx.warmupMs });

    ctx.log(`${name}: closed model, ${connections} connections, ${ctx.durationMs / 1000} s`);
    const [max, maxStats] = await measured(ctx, () => runClosedModel({ ...closed, durationMs: ctx.durationMs }));
    const base = {
      scenario: name,
      label: request.label,
      recordsPerRequest: request.records,
      connections,
    } as const;
    const results: PhaseResult[] = [
      {
        ...base,
        phase: "max",
        model: "closed",
        offeredPerSec: null,
        requestsPerSec: max.requestsPerSec,
        recordsPerSec: max.recordsPerSec,
        latencyMs: null,
        serviceTimeMs: max.serviceTimeMs,
        counts: max.outcomes,
        maxSchedulerLagMs: null,
        stats: maxStats,
      },
    ];
    if (!withFixedRate) return results;

    const rate = Math.max(1, Math.round(max.requestsPerSec * ctx.loadFraction));
    ctx.log(`${name}: ${Math.round(max.requestsPerSec)} requests/s; open model at ${rate} requests/s`);
    const [open, openStats] = await measured(ctx, () =>
      runOpenModel({
        pool,
        request,
        ratePerSec: rate,
        durationMs: ctx.durationMs,
        maxRequests: MAX_REQUESTS,
        maxOutstanding: MAX_OUTSTANDING,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
      }),
    );
    results.push({
      ...base,
      phase: "fixed-rate",
      model: "open",
      offeredPerSec: open.offeredPerSec,
      requestsPerSec: open.achievedPerSec,
      recordsPerSec: open.recordsPerSec,
      latencyMs: open.latencyMs,
      serviceTimeMs: null,
      counts: { ...open.outcomes, shed: open.shed, unfinished: open.unfinished },
      maxSchedulerLagMs: open.maxSchedulerLagMs,
      stats: openStats,
    });
    // The gateway's connections stay open but idle while the baseline runs.
    results.push(await sameRateBaseline(ctx, name, open.offeredPerSec * request.records));
    return results;
  } finally {
    await pool.destroy();
  }
}
