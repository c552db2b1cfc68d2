/**
 * The produce scenarios against one gateway, and the dispatch to every scenario. A scenario
 * measures its own saturation first and derives its fixed-rate loads from it, so every run is
 * self-calibrating.
 */
import { type Dispatcher, Pool } from "undici";
import { runClosedModel } from "./closed-model.ts";
import { consume, forwarding } from "./consume-scenarios.ts";
import { fanoutScenario } from "./fanout-scenario.ts";
import { healthzRequest, produceV2Request, type RequestSpec } from "./http-request.ts";
import { lone } from "./lone-scenario.ts";
import { runOpenModel } from "./open-model.ts";
import { peers } from "./peers-scenario.ts";
import {
  DRAIN_TIMEOUT_MS,
  MAX_OUTSTANDING,
  MAX_RECORDS,
  MAX_REQUESTS,
  measure,
  type PhaseResult,
  rateAt,
  type ScenarioContext,
  type ScenarioName,
} from "./phase.ts";
import { createPlainProducer, type PlainProducer } from "./plain-producer.ts";
import { scaleOut } from "./scale-scenario.ts";
import { streamV3 } from "./stream-scenario.ts";
import { tail } from "./tail-scenario.ts";

export { OPT_IN_SCENARIOS, type PhaseResult, SCENARIOS, type ScenarioContext, type ScenarioName } from "./phase.ts";

/** Enough connections to saturate each request size on two cores without drowning the generator. */
export const CONNECTIONS = { healthz: 64, "produce-1": 128, "produce-100": 16 } as const;
const PRODUCER_WINDOW = 20_000;

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
    case "stream-v3":
      return streamV3(ctx);
    case "consume":
      return consume(ctx);
    case "forwarding":
      return forwarding(ctx);
    case "scale-out":
      return scaleOut(ctx);
    case "lone":
      return lone(ctx);
    case "peers":
      return peers(ctx);
    case "fanout":
      return fanoutScenario(ctx);
    case "tail":
      return tail(ctx);
  }
}

async function plainProducer(ctx: ScenarioContext): Promise<PhaseResult[]> {
  const { target, durationMs } = ctx;
  const producer = await createPlainProducer(target.kafka, target.topic, ctx.value);
  try {
    const bounds = { maxRecords: MAX_RECORDS, window: PRODUCER_WINDOW, drainTimeoutMs: DRAIN_TIMEOUT_MS };
    ctx.log(`producer: warm-up ${ctx.warmupMs / 1000} s`);
    await producer.maxThroughput({ ...bounds, durationMs: ctx.warmupMs });

    ctx.log(`producer: max throughput, ${durationMs / 1000} s, window ${PRODUCER_WINDOW} records`);
    const max = await measure(ctx, () => producer.maxThroughput({ ...bounds, durationMs }), { lagOf: null });
    ctx.log(`producer: ${Math.round(max.result.recordsPerSec)} records/s`);
    const results: PhaseResult[] = [
      {
        ...plainBase("producer", "plain librdkafka producer"),
        phase: "max",
        loadFraction: null,
        model: "closed",
        offeredPerSec: null,
        recordsPerSec: max.result.recordsPerSec,
        latencyMs: null,
        counts: { ok: max.result.delivered, failed: max.result.failed },
        maxSchedulerLagMs: null,
        stats: max.stats,
      },
    ];
    for (const fraction of ctx.loadFractions) {
      const rate = rateAt(max.result.recordsPerSec, fraction);
      results.push(await plainFixedRate(ctx, producer, "producer", "plain librdkafka producer", fraction, rate));
    }
    return results;
  } finally {
    await producer.close();
  }
}

const plainBase = (scenario: ScenarioName, label: string) =>
  ({
    scenario,
    label,
    recordsPerRequest: null,
    connections: null,
    requestsPerSec: null,
    serviceTimeMs: null,
    eventLoopLagP99Ms: null,
  }) as const;

async function plainFixedRate(
  ctx: ScenarioContext,
  producer: PlainProducer,
  scenario: ScenarioName,
  label: string,
  fraction: number | null,
  ratePerSec: number,
): Promise<PhaseResult> {
  ctx.log(`${scenario}: ${label}, fixed rate ${ratePerSec} records/s`);
  const fixed = await measure(
    ctx,
    () =>
      producer.fixedRate({
        ratePerSec,
        durationMs: ctx.durationMs,
        maxRecords: MAX_RECORDS,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
      }),
    { lagOf: null },
  );
  return {
    ...plainBase(scenario, label),
    phase: fraction === null ? "same-rate" : "fixed-rate",
    loadFraction: fraction,
    model: "open",
    offeredPerSec: fixed.result.offeredPerSec,
    recordsPerSec: fixed.result.achievedPerSec,
    latencyMs: fixed.result.latencyMs,
    counts: { ok: fixed.result.delivered, failed: fixed.result.failed, unfinished: fixed.result.unfinished },
    maxSchedulerLagMs: fixed.result.maxSchedulerLagMs,
    stats: fixed.stats,
  };
}

/**
 * The latency baseline for a Wharf open-model phase: the plain producer at the same record rate,
 * so the difference is what Wharf adds, not what a different load does to Kafka.
 */
export async function sameRateBaseline(ctx: ScenarioContext, scenario: ScenarioName, recordsPerSec: number) {
  const rate = Math.max(1, Math.round(recordsPerSec));
  const producer = await createPlainProducer(ctx.target.kafka, ctx.target.topic, ctx.value);
  try {
    // A new idempotent producer holds its first records until it has a producer id and metadata:
    // hundreds of milliseconds that would otherwise land in the baseline's tail.
    const warmup = { ratePerSec: rate, durationMs: ctx.warmupMs, maxRecords: MAX_RECORDS };
    await producer.fixedRate({ ...warmup, drainTimeoutMs: DRAIN_TIMEOUT_MS });
    return await plainFixedRate(ctx, producer, scenario, `plain producer at ${scenario} rate`, null, rate);
  } finally {
    await producer.close();
  }
}

/** Saturation (closed model) of one request kind against `url`, as a phase. */
export async function closedPhase(
  ctx: ScenarioContext,
  name: ScenarioName,
  pool: Dispatcher,
  request: RequestSpec,
  connections: number,
  options: { label?: string; gatewayPids?: number[]; lagOf?: string | null } = {},
): Promise<PhaseResult> {
  const closed = { pool, request, concurrency: connections, maxRequests: MAX_REQUESTS };
  ctx.log(`${name}: warm-up ${ctx.warmupMs / 1000} s`);
  await runClosedModel({ ...closed, durationMs: ctx.warmupMs });
  ctx.log(`${name}: ${options.label ?? request.label}, closed model, ${connections} connections`);
  const max = await measure(ctx, () => runClosedModel({ ...closed, durationMs: ctx.durationMs }), options);
  return {
    scenario: name,
    phase: "max",
    label: options.label ?? request.label,
    loadFraction: null,
    model: "closed",
    recordsPerRequest: request.records,
    connections,
    offeredPerSec: null,
    requestsPerSec: max.result.requestsPerSec,
    recordsPerSec: max.result.recordsPerSec,
    latencyMs: null,
    serviceTimeMs: max.result.serviceTimeMs,
    counts: max.result.outcomes,
    maxSchedulerLagMs: null,
    eventLoopLagP99Ms: max.eventLoopLagP99Ms,
    gc: max.gc,
    idleFlushes: max.idleFlushes,
    stats: max.stats,
  };
}

/** A constant arrival rate of one request kind, latency from each intended send time, as a phase. */
export async function openPhase(
  ctx: ScenarioContext,
  name: ScenarioName,
  pool: Pool,
  request: RequestSpec,
  ratePerSec: number,
  options: { label?: string; loadFraction?: number | null; gatewayPids?: number[]; lagOf?: string | null } = {},
): Promise<PhaseResult> {
  ctx.log(`${name}: ${options.label ?? request.label}, open model at ${ratePerSec} requests/s`);
  const open = await measure(
    ctx,
    () =>
      runOpenModel({
        pool,
        request,
        ratePerSec,
        durationMs: ctx.durationMs,
        maxRequests: MAX_REQUESTS,
        maxOutstanding: MAX_OUTSTANDING,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
      }),
    {
      ...(options.lagOf === undefined ? {} : { lagOf: options.lagOf }),
      ...(options.gatewayPids ? { gatewayPids: options.gatewayPids } : {}),
    },
  );
  return {
    scenario: name,
    phase: "fixed-rate",
    label: options.label ?? request.label,
    loadFraction: options.loadFraction ?? null,
    model: "open",
    recordsPerRequest: request.records,
    connections: null,
    offeredPerSec: open.result.offeredPerSec,
    requestsPerSec: open.result.achievedPerSec,
    recordsPerSec: open.result.recordsPerSec,
    latencyMs: open.result.latencyMs,
    serviceTimeMs: null,
    counts: { ...open.result.outcomes, shed: open.result.shed, unfinished: open.result.unfinished },
    maxSchedulerLagMs: open.result.maxSchedulerLagMs,
    eventLoopLagP99Ms: open.eventLoopLagP99Ms,
    gc: open.gc,
    idleFlushes: open.idleFlushes,
    delivery: open.delivery,
    stats: open.stats,
  };
}

/** Steps of the ramp, as fractions of the closed-model max. */
const RAMP_STEPS = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2];
/** A step with a p99 above this did not keep up, whatever it achieved. */
const RAMP_MAX_P99_MS = 100;

/**
 * A step kept up when it achieved (nearly) what it offered, shed and lost nothing, and its p99
 * stayed bounded: beyond saturation an open model's queue, and so its latency, grows without end.
 */
const sustained = (step: PhaseResult) =>
  (step.requestsPerSec ?? 0) >= 0.97 * (step.offeredPerSec ?? Number.POSITIVE_INFINITY) &&
  Object.entries(step.counts).every(([kind, n]) => kind === "ok" || !n) &&
  (step.latencyMs?.p99 ?? Number.POSITIVE_INFINITY) <= RAMP_MAX_P99_MS;

/**
 * The saturation point: open-model steps at rising rates (from half the closed-model max), each a
 * quarter of a phase long, until one does not keep up twice in a row. The saturation is the
 * achieved rate of the last step that did (the first step's, if none did).
 */
export async function rampPhases(
  ctx: ScenarioContext,
  name: ScenarioName,
  pool: Pool,
  request: RequestSpec,
  closedMaxPerSec: number,
  connections: number,
): Promise<{ steps: PhaseResult[]; saturationPerSec: number }> {
  const steps: PhaseResult[] = [];
  let saturationPerSec = 0;
  const stepCtx = { ...ctx, durationMs: Math.max(2000, ctx.durationMs / 4) };
  const runStep = async (fraction: number) => {
    const step = await openPhase(stepCtx, name, pool, request, rateAt(closedMaxPerSec, fraction), {
      loadFraction: fraction,
    });
    step.phase = "ramp";
    step.connections = connections;
    step.sustained = sustained(step);
    steps.push(step);
    return step;
  };
  for (const fraction of RAMP_STEPS) {
    // A step that did not keep up gets a second try: on a shared machine one stall in a 2 s step
    // would otherwise end the ramp far below the real saturation.
    let step = await runStep(fraction);
    if (!step.sustained) step = await runStep(fraction);
    if (!step.sustained) break;
    saturationPerSec = step.requestsPerSec ?? 0;
  }
  if (saturationPerSec === 0) saturationPerSec = steps[0]?.requestsPerSec ?? closedMaxPerSec;
  ctx.log(
    `${name}: ramp saturation ${Math.round(saturationPerSec)} requests/s (closed max ${Math.round(closedMaxPerSec)})`,
  );
  return { steps, saturationPerSec };
}

export function gatewayPool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
}

async function http(
  ctx: ScenarioContext,
  name: "healthz" | "produce-1" | "produce-100",
  request: RequestSpec,
  withFixedRate: boolean,
): Promise<PhaseResult[]> {
  const connections = CONNECTIONS[name];
  const pool = gatewayPool(ctx.target.gatewayUrl, connections);
  try {
    const max = await closedPhase(ctx, name, pool, request, connections);
    const results = [max];
    if (!withFixedRate) return results;
    const ramp = await rampPhases(ctx, name, pool, request, max.requestsPerSec ?? 0, connections);
    results.push(...ramp.steps);
    for (const [i, fraction] of ctx.loadFractions.entries()) {
      const rate = rateAt(ramp.saturationPerSec, fraction);
      const open = await openPhase(ctx, name, pool, request, rate, { loadFraction: fraction });
      // Connections are not re-dialled between phases: the first phase's are warm already.
      open.connections = connections;
      results.push(open);
      // The gateway's connections stay open but idle while the baseline runs.
      if (i === 0) results.push(await sameRateBaseline(ctx, name, (open.offeredPerSec ?? 0) * request.records));
    }
    return results;
  } finally {
    await pool.destroy();
  }
}
