/**
 * Closed model: a fixed number of workers, each sending its next request as soon as the previous
 * one answered. It finds the saturation throughput; its latencies are service times, which hide
 * stalls (a stalled worker sends nothing), so they are reported for information only.
 */
import type { Dispatcher } from "undici";
import { emptyCounts, type OutcomeCounts, type RequestSpec, send } from "./http-request.ts";
import { createHistogram, type LatencySummary, recordMs, summarize } from "./latency.ts";

export interface ClosedModelOptions {
  /** A Pool for one origin, or a BalancedPool spreading over several. */
  pool: Dispatcher;
  request: RequestSpec;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
}

export interface ClosedModelResult {
  concurrency: number;
  elapsedS: number;
  /** Requests sent, whatever their outcome. */
  requests: number;
  /** Requests answered "ok" per second: errors and 429s, however fast, do not count. */
  requestsPerSec: number;
  /** Records acknowledged (only requests answered "ok" count). */
  recordsPerSec: number;
  outcomes: OutcomeCounts;
  serviceTimeMs: LatencySummary | null;
}

export async function runClosedModel(options: ClosedModelOptions): Promise<ClosedModelResult> {
  const { pool, request, concurrency, durationMs, maxRequests } = options;
  const outcomes = emptyCounts();
  const histogram = createHistogram();
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  let issued = 0;

  const worker = async () => {
    while (issued < maxRequests && performance.now() < deadline) {
      issued++;
      const sentAt = performance.now();
      const outcome = await send(pool, request);
      recordMs(histogram, performance.now() - sentAt);
      outcomes[outcome]++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  const elapsedS = (performance.now() - startedAt) / 1000;
  return {
    concurrency,
    elapsedS,
    requests: issued,
    requestsPerSec: outcomes.ok / elapsedS,
    recordsPerSec: (outcomes.ok * request.records) / elapsedS,
    outcomes,
    serviceTimeMs: summarize(histogram),
  };
}
