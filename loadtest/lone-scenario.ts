/**
 * The lone request: one client, one connection, one record, each sent when the previous one was
 * answered. What a mobile backend or a batch job sending one record at a time feels. Its pieces are
 * measured the same way, one at a time, so the report can say where the time goes:
 * - a plain librdkafka producer with the gateway's settings (linger.ms=2): the loop Wharf is held to;
 * - the same producer with linger.ms=0: the binding plus the broker's acks=all round trip alone;
 * - GET /healthz: an empty HTTP round trip through the gateway's HTTP stack;
 * - the decoding of the request body in this process (JSON.parse and base64), per request;
 * - Wharf's v2 produce of one record.
 */
import { runClosedModel } from "./closed-model.ts";
import { healthzRequest, produceV2Request, type RequestSpec } from "./http-request.ts";
import { createHistogram, recordMs, summarize } from "./latency.ts";
import { MAX_RECORDS, MAX_REQUESTS, measure, type PhaseResult, type ScenarioContext } from "./phase.ts";
import { createPlainProducer } from "./plain-producer.ts";
import { gatewayPool } from "./scenarios.ts";

/** Per lone phase, whatever the duration: a serial loop needs far fewer to show its tail. */
const MAX_LONE = Math.min(MAX_RECORDS, MAX_REQUESTS, 50_000);

const base = (label: string) =>
  ({
    scenario: "lone",
    phase: "lone",
    label,
    loadFraction: null,
    model: "closed",
    offeredPerSec: null,
    serviceTimeMs: null,
    maxSchedulerLagMs: null,
  }) as const;

async function plainLone(ctx: ScenarioContext, label: string, overrides: Record<string, number>) {
  const producer = await createPlainProducer(ctx.target.kafka, ctx.target.topic, ctx.value, { overrides });
  try {
    // The first records wait for the idempotent producer's id and the topic's metadata.
    await producer.lone({ durationMs: ctx.warmupMs, maxRecords: MAX_LONE });
    ctx.log(`lone: ${label}, ${ctx.durationMs / 1000} s`);
    const startedAt = performance.now();
    const m = await measure(ctx, () => producer.lone({ durationMs: ctx.durationMs, maxRecords: MAX_LONE }), {
      lagOf: null,
    });
    const elapsedS = (performance.now() - startedAt) / 1000;
    return {
      ...base(label),
      recordsPerRequest: null,
      connections: null,
      requestsPerSec: null,
      recordsPerSec: m.result.delivered / elapsedS,
      latencyMs: m.result.latencyMs,
      counts: { ok: m.result.delivered, failed: m.result.failed },
      eventLoopLagP99Ms: null,
      stats: m.stats,
    } satisfies PhaseResult;
  } finally {
    await producer.close();
  }
}

async function httpLone(ctx: ScenarioContext, request: RequestSpec, label: string): Promise<PhaseResult> {
  const pool = gatewayPool(ctx.target.gatewayUrl, 1);
  try {
    const closed = { pool, request, concurrency: 1, maxRequests: MAX_LONE };
    await runClosedModel({ ...closed, durationMs: ctx.warmupMs });
    ctx.log(`lone: ${label}, ${ctx.durationMs / 1000} s`);
    const m = await measure(ctx, () => runClosedModel({ ...closed, durationMs: ctx.durationMs }));
    return {
      ...base(label),
      recordsPerRequest: request.records,
      connections: 1,
      requestsPerSec: m.result.requestsPerSec,
      recordsPerSec: m.result.recordsPerSec,
      // One client waiting for each answer: the service time is exactly what it feels.
      latencyMs: m.result.serviceTimeMs,
      counts: m.result.outcomes,
      eventLoopLagP99Ms: m.eventLoopLagP99Ms,
      gc: m.gc,
      idleFlushes: m.idleFlushes,
      stats: m.stats,
    };
  } finally {
    await pool.destroy();
  }
}

/** What the gateway's body decoding costs per request, measured here (same Node, same record). */
async function decodeCost(ctx: ScenarioContext, request: RequestSpec): Promise<PhaseResult> {
  const body = (request.body as Buffer).toString();
  const histogram = createHistogram();
  const rounds = 20_000;
  const m = await measure(
    ctx,
    async () => {
      for (let i = 0; i < rounds; i++) {
        const at = performance.now();
        const parsed = JSON.parse(body) as { records: Array<{ value: string }> };
        for (const r of parsed.records) Buffer.from(r.value, "base64");
        recordMs(histogram, performance.now() - at);
      }
    },
    { lagOf: null },
  );
  return {
    ...base("JSON.parse + base64 of the body, in this process"),
    recordsPerRequest: request.records,
    connections: null,
    requestsPerSec: null,
    recordsPerSec: 0,
    latencyMs: summarize(histogram),
    counts: { ok: rounds },
    eventLoopLagP99Ms: null,
    stats: m.stats,
  };
}

export async function lone(ctx: ScenarioContext): Promise<PhaseResult[]> {
  const produce = produceV2Request(ctx.target.topic, ctx.value, 1);
  return [
    await plainLone(ctx, "plain producer, one record at a time", {}),
    await plainLone(ctx, "plain producer, linger.ms=0, one record at a time", { "linger.ms": 0 }),
    await httpLone(ctx, healthzRequest(), "GET /healthz, one at a time"),
    await decodeCost(ctx, produce),
    await httpLone(ctx, produce, "v2 produce 1 record, one at a time"),
  ];
}
