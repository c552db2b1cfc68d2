/**
 * Consume scenarios: v2 consumer throughput and end-to-end latency against a plain librdkafka
 * consumer, and the cost of reaching an instance through a gateway that does not own it.
 */
import {
  createV2Instance,
  deleteV2Instance,
  httpStampedProducer,
  plainConsumer,
  type RecordReader,
  seekV2ToEnd,
  v2Reader,
} from "./consumers.ts";
import { scrapeMetric } from "./gateway-metrics.ts";
import { V2 } from "./http-request.ts";
import { createHistogram, recordMs, summarize } from "./latency.ts";
import {
  DRAIN_TIMEOUT_MS,
  MAX_RECORDS,
  measure,
  type PhaseResult,
  type ScenarioContext,
  type ScenarioName,
} from "./phase.ts";
import { createPlainProducer, type PlainProducer } from "./plain-producer.ts";
import { gatewayPool, openPhase } from "./scenarios.ts";

/** Records written before the throughput phases, which read this many from the beginning. */
const PREFILL = 100_000;
/** End-to-end phases produce at most this many records/s (half the v2 consume rate otherwise). */
const E2E_MAX_RATE = 5000;
/**
 * Both ends over HTTP: one request per record costs the gateway far more than the plain producer,
 * and on two shared cores 5,000 requests/s beside the reader saturated the machine (a latency
 * figure then only measures the queue).
 */
const HTTP_E2E_MAX_RATE = 1000;
const FORWARDED_RATE = 500;
const FORWARDED_E2E_RATE = 1000;
/** After the producer stopped, readers get this long to see its last records. */
const TAIL_MS = 3000;

const base = (scenario: ScenarioName, label: string, phase: PhaseResult["phase"]) =>
  ({ scenario, label, phase, loadFraction: null, recordsPerRequest: null, serviceTimeMs: null }) as const;

async function readAll(
  ctx: ScenarioContext,
  scenario: ScenarioName,
  label: string,
  reader: RecordReader,
  owner: string | null,
  polls?: () => number,
) {
  ctx.log(`${scenario}: ${label}, reading ${PREFILL} records`);
  const startedAt = performance.now();
  const m = await measure(ctx, () => reader.run(() => {}, PREFILL, startedAt + 2 * ctx.durationMs), {
    lagOf: owner,
  });
  const elapsedS = (performance.now() - startedAt) / 1000;
  return {
    ...base(scenario, label, "max"),
    model: "closed",
    connections: polls ? 1 : null,
    offeredPerSec: null,
    requestsPerSec: polls ? polls() / elapsedS : null,
    recordsPerSec: m.result / elapsedS,
    latencyMs: null,
    counts: { ok: m.result },
    maxSchedulerLagMs: null,
    eventLoopLagP99Ms: m.eventLoopLagP99Ms,
    gc: m.gc,
    idleFlushes: m.idleFlushes,
    stats: m.stats,
  } satisfies PhaseResult;
}

/**
 * Produces at `rate` with stamped keys while `reader` reads; each record's latency runs from its
 * intended produce time to its arrival here (same clock: both ends live in this process).
 */
async function endToEnd(
  ctx: ScenarioContext,
  scenario: ScenarioName,
  label: string,
  producer: Pick<PlainProducer, "fixedRate">,
  reader: RecordReader,
  rate: number,
  options: { polls?: () => number; lagOf: string | null },
): Promise<PhaseResult> {
  ctx.log(`${scenario}: ${label}, end-to-end at ${rate} records/s`);
  // The reader's position must be resolved before the first measured record is produced.
  await reader.run(() => {}, MAX_RECORDS, performance.now() + 1000);
  const histogram = createHistogram();
  const onKey = (key: Buffer | null) => {
    const stamp = key === null ? Number.NaN : Number(key.toString());
    if (Number.isFinite(stamp)) recordMs(histogram, performance.timeOrigin + performance.now() - stamp);
  };
  const polls0 = options.polls?.() ?? 0;
  const startedAt = performance.now();
  const m = await measure(
    ctx,
    async () => {
      const reading = reader.run(onKey, MAX_RECORDS, startedAt + ctx.durationMs + DRAIN_TIMEOUT_MS);
      const produced = await producer.fixedRate({
        ratePerSec: rate,
        durationMs: ctx.durationMs,
        maxRecords: MAX_RECORDS,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
      });
      const tailEnd = performance.now() + TAIL_MS;
      while (histogram.totalCount < produced.delivered && performance.now() < tailEnd) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      reader.stop();
      await reading;
      return produced;
    },
    { lagOf: options.lagOf },
  );
  const elapsedS = (performance.now() - startedAt) / 1000;
  const seen = histogram.totalCount;
  return {
    ...base(scenario, label, "fixed-rate"),
    model: "open",
    connections: options.polls ? 1 : null,
    offeredPerSec: m.result.offeredPerSec,
    requestsPerSec: options.polls ? (options.polls() - polls0) / elapsedS : null,
    recordsPerSec: seen / elapsedS,
    latencyMs: summarize(histogram),
    counts: { ok: seen, failed: m.result.failed, unfinished: Math.max(0, m.result.delivered - seen) },
    maxSchedulerLagMs: m.result.maxSchedulerLagMs,
    eventLoopLagP99Ms: m.eventLoopLagP99Ms,
    gc: m.gc,
    idleFlushes: m.idleFlushes,
    stats: m.stats,
  };
}

async function stampedProducer(ctx: ScenarioContext, rate: number): Promise<PlainProducer> {
  const producer = await createPlainProducer(ctx.target.kafka, ctx.target.topic, ctx.value, { stampKeys: true });
  // An idempotent producer's first records wait for its producer id: keep that out of the tail.
  await producer.fixedRate({
    ratePerSec: rate,
    durationMs: 1000,
    maxRecords: MAX_RECORDS,
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
  });
  return producer;
}

export async function consume(ctx: ScenarioContext): Promise<PhaseResult[]> {
  const { target } = ctx;
  ctx.log(`consume: writing ${PREFILL} records to read back`);
  const filler = await createPlainProducer(target.kafka, target.topic, ctx.value);
  try {
    await filler.maxThroughput({
      durationMs: 60_000,
      maxRecords: PREFILL,
      window: 20_000,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
    });
  } finally {
    await filler.close();
  }
  const results: PhaseResult[] = [];
  const plain = await plainConsumer(target.kafka, target.topic, target.partitions, "beginning");
  try {
    results.push(await readAll(ctx, "consume", "plain librdkafka consumer", plain, null));
  } finally {
    await plain.close();
  }
  // Instances may be placed on another node than the one asked: poll the owner, not a forwarder.
  const { instance, owner } = await createOwned(ctx);
  const pool = gatewayPool(owner, 1);
  let producer: PlainProducer | null = null;
  let tail: RecordReader | null = null;
  try {
    const counting = v2Reader(pool, instance, false);
    const v2 = await readAll(ctx, "consume", "v2 GET records (poll)", counting, owner, counting.polls);
    results.push(v2);

    const rate = Math.max(1, Math.min(E2E_MAX_RATE, Math.round(v2.recordsPerSec * 0.5)));
    producer = await stampedProducer(ctx, rate);
    tail = await plainConsumer(target.kafka, target.topic, target.partitions, "end");
    results.push(await endToEnd(ctx, "consume", "plain consumer, end to end", producer, tail, rate, { lagOf: null }));
    await seekV2ToEnd(owner, instance, target.topic, target.partitions);
    const keyed = v2Reader(pool, instance, true);
    const e2e = await endToEnd(ctx, "consume", "v2 poll, end to end", producer, keyed, rate, {
      polls: keyed.polls,
      lagOf: owner,
    });
    results.push(e2e);

    // Both ends over HTTP: v2 produce of one stamped record per request, read by the long-poll.
    await seekV2ToEnd(owner, instance, target.topic, target.partitions);
    const produceOver = gatewayPool(target.gatewayUrl, 64);
    try {
      const overHttp = httpStampedProducer(produceOver, target.topic, ctx.value);
      const both = v2Reader(pool, instance, true);
      results.push(
        await endToEnd(
          ctx,
          "consume",
          "v2 produce -> v2 poll, end to end",
          overHttp,
          both,
          Math.min(rate, HTTP_E2E_MAX_RATE),
          {
            polls: both.polls,
            lagOf: owner,
          },
        ),
      );
    } finally {
      await produceOver.destroy();
    }
    return results;
  } finally {
    await tail?.close();
    await producer?.close();
    await deleteV2Instance(owner, instance);
    await pool.destroy();
  }
}

/** The gateway that owns the instance: the one whose wharf_consumer_instances went up. */
async function ownerOf(urls: string[], before: (number | null)[]): Promise<string | null> {
  const after = await Promise.all(urls.map((u) => scrapeMetric(u, "wharf_consumer_instances")));
  const i = after.findIndex((n, k) => n !== null && n > (before[k] ?? 0));
  return i === -1 ? null : (urls[i] as string);
}

async function createOwned(ctx: ScenarioContext) {
  const { target } = ctx;
  const urls = target.gateways.map((g) => g.url);
  const before = await Promise.all(urls.map((u) => scrapeMetric(u, "wharf_consumer_instances")));
  const instance = await createV2Instance(target.gatewayUrl, target.topic, target.partitions);
  return { instance, owner: (await ownerOf(urls, before)) ?? target.gatewayUrl };
}

export async function forwarding(ctx: ScenarioContext): Promise<PhaseResult[]> {
  const { target } = ctx;
  const urls = target.gateways.map((g) => g.url);
  if (urls.length < 2) {
    ctx.log("forwarding: skipped, needs a stack of several gateways (not --gateway)");
    return [];
  }
  const { instance, owner } = await createOwned(ctx);
  const other = urls.find((u) => u !== owner) as string;
  ctx.log(`forwarding: instance owned by ${owner}; non-owner ${other}`);
  const results: PhaseResult[] = [];
  const assignments = {
    label: "GET .../assignments",
    method: "GET" as const,
    path: `${instance.path}/assignments`,
    headers: { accept: V2 },
    body: null,
    records: 0,
  };
  let producer: PlainProducer | null = null;
  try {
    for (const [via, url] of [
      ["owner", owner],
      ["non-owner", other],
    ] as const) {
      const pool = gatewayPool(url, 16);
      try {
        const label = `GET assignments via ${via}`;
        await openPhase({ ...ctx, durationMs: ctx.warmupMs }, "forwarding", pool, assignments, FORWARDED_RATE, {
          label,
          lagOf: null,
        });
        results.push(await openPhase(ctx, "forwarding", pool, assignments, FORWARDED_RATE, { label, lagOf: owner }));
      } finally {
        await pool.destroy();
      }
    }
    producer = await stampedProducer(ctx, FORWARDED_E2E_RATE);
    for (const [via, url] of [
      ["owner", owner],
      ["non-owner", other],
    ] as const) {
      const pool = gatewayPool(url, 1);
      try {
        await seekV2ToEnd(url, instance, target.topic, target.partitions);
        const reader = v2Reader(pool, instance, true);
        const label = `v2 poll via ${via}, end to end`;
        results.push(
          await endToEnd(ctx, "forwarding", label, producer, reader, FORWARDED_E2E_RATE, {
            polls: reader.polls,
            lagOf: owner,
          }),
        );
      } finally {
        await pool.destroy();
      }
    }
    return results;
  } finally {
    await producer?.close();
    await deleteV2Instance(owner, instance);
  }
}
