/** The v3 streaming produce scenario: many records in one long chunked request. */
import { request } from "undici";
import { DRAIN_TIMEOUT_MS, MAX_RECORDS, measure, type PhaseResult, rateAt, type ScenarioContext } from "./phase.ts";
import { gatewayPool } from "./scenarios.ts";
import { runStream, type StreamResult } from "./stream-produce.ts";

/** Records written ahead of their reports: the gateway itself reads up to 1000 ahead. */
const STREAM_WINDOW = 2000;

export async function clusterId(gatewayUrl: string): Promise<string> {
  const response = await request(`${gatewayUrl}/v3/clusters`, { headers: { accept: "application/json" } });
  const body = (await response.body.json()) as { data?: { cluster_id?: string }[] };
  const id = body.data?.[0]?.cluster_id;
  if (response.statusCode !== 200 || !id) throw new Error(`GET /v3/clusters answered ${response.statusCode}`);
  return id;
}

export async function streamV3(ctx: ScenarioContext): Promise<PhaseResult[]> {
  const { target } = ctx;
  const cluster = await clusterId(target.gatewayUrl);
  const path = `/v3/clusters/${encodeURIComponent(cluster)}/topics/${encodeURIComponent(target.topic)}/records`;
  const record = Buffer.from(JSON.stringify({ value: { type: "BINARY", data: ctx.value.toString("base64") } }));
  const pool = gatewayPool(target.gatewayUrl, 1);
  const label = "v3 streamed records, 1 request";
  const run = (ratePerSec: number | null, durationMs: number) =>
    runStream({
      pool,
      path,
      record,
      ratePerSec,
      durationMs,
      maxRecords: MAX_RECORDS,
      window: STREAM_WINDOW,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
    });
  const phase = (r: StreamResult, fraction: number | null): Omit<PhaseResult, "stats" | "eventLoopLagP99Ms"> => ({
    scenario: "stream-v3",
    phase: fraction === null ? "max" : "fixed-rate",
    label,
    loadFraction: fraction,
    model: fraction === null ? "closed" : "open",
    recordsPerRequest: null,
    connections: 1,
    offeredPerSec: r.offeredPerSec,
    requestsPerSec: null,
    recordsPerSec: r.recordsPerSec,
    latencyMs: fraction === null ? null : r.latencyMs,
    serviceTimeMs: fraction === null ? r.latencyMs : null,
    counts: {
      ok: r.delivered,
      recordError: r.failed,
      unfinished: r.unfinished,
      ...(r.status === 200 ? {} : { httpError: 1 }),
    },
    maxSchedulerLagMs: fraction === null ? null : r.maxSchedulerLagMs,
  });
  try {
    ctx.log(`stream-v3: warm-up ${ctx.warmupMs / 1000} s`);
    await run(null, ctx.warmupMs);
    ctx.log(`stream-v3: max, window ${STREAM_WINDOW} records`);
    const max = await measure(ctx, () => run(null, ctx.durationMs));
    const results: PhaseResult[] = [
      {
        ...phase(max.result, null),
        stats: max.stats,
        eventLoopLagP99Ms: max.eventLoopLagP99Ms,
        gc: max.gc,
        idleFlushes: max.idleFlushes,
      },
    ];
    for (const fraction of ctx.loadFractions) {
      const rate = rateAt(max.result.recordsPerSec, fraction);
      ctx.log(`stream-v3: fixed rate ${rate} records/s`);
      const fixed = await measure(ctx, () => run(rate, ctx.durationMs));
      results.push({
        ...phase(fixed.result, fraction),
        stats: fixed.stats,
        eventLoopLagP99Ms: fixed.eventLoopLagP99Ms,
        gc: fixed.gc,
        idleFlushes: fixed.idleFlushes,
      });
    }
    return results;
  } finally {
    await pool.destroy();
  }
}
