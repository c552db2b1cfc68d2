/**
 * Open model: requests arrive at a constant rate whether or not earlier ones have answered, and
 * each latency is measured from the request's intended send time. Requests that wait for a free
 * connection, or behind a stalled gateway, are charged for the wait (no coordinated omission).
 */
import type { Dispatcher } from "undici";
import { emptyCounts, type OutcomeCounts, type RequestSpec, send } from "./http-request.ts";
import { createHistogram, type Histogram, type LatencySummary, recordMs, summarize } from "./latency.ts";
import { runAtConstantRate } from "./schedule.ts";

export interface OpenModelOptions {
  /** A Pool for one origin, or a BalancedPool spreading over several. */
  pool: Dispatcher;
  request: RequestSpec;
  ratePerSec: number;
  durationMs: number;
  maxRequests: number;
  /** Requests allowed to be outstanding at once; beyond it they are not sent and count as shed. */
  maxOutstanding: number;
  /** How long to wait for answers once the last request was due. */
  drainTimeoutMs: number;
  /** Latencies go here (summarized over everything it holds) instead of into a fresh histogram. */
  histogram?: Histogram;
}

export interface OpenModelResult {
  offeredPerSec: number;
  /** Requests answered "ok" per second over the whole phase (schedule plus drain). */
  achievedPerSec: number;
  recordsPerSec: number;
  scheduled: number;
  /** Not sent because maxOutstanding requests were already waiting: the target could not keep up. */
  shed: number;
  /** Still unanswered at the end of the drain; recorded with the latency they had reached. */
  unfinished: number;
  outcomes: OutcomeCounts;
  /** From intended send time to the end of the response. */
  latencyMs: LatencySummary | null;
  maxSchedulerLagMs: number;
}

export async function runOpenModel(options: OpenModelOptions): Promise<OpenModelResult> {
  const { pool, request } = options;
  const outcomes = emptyCounts();
  const histogram = options.histogram ?? createHistogram();
  const outstanding = new Set<number>();
  let shed = 0;
  let finished = false;
  let lastAnswerAt = 0;
  let onIdle: (() => void) | null = null;

  const fire = (dueAt: number) => {
    if (outstanding.size >= options.maxOutstanding) {
      shed++;
      return;
    }
    outstanding.add(dueAt);
    void send(pool, request).then((outcome) => {
      // Answers that arrive after the drain gave up were already counted as unfinished.
      if (finished) return;
      lastAnswerAt = performance.now();
      recordMs(histogram, lastAnswerAt - dueAt);
      outcomes[outcome]++;
      outstanding.delete(dueAt);
      if (outstanding.size === 0) onIdle?.();
    });
  };

  const schedule = await runAtConstantRate({
    ratePerSec: options.ratePerSec,
    durationMs: options.durationMs,
    maxEvents: options.maxRequests,
    fire,
  });
  const scheduleEnd = performance.now();
  if (outstanding.size > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.drainTimeoutMs);
      onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  finished = true;
  const endedAt = performance.now();
  for (const dueAt of outstanding) recordMs(histogram, endedAt - dueAt);

  const elapsedS = (Math.max(lastAnswerAt, scheduleEnd) - schedule.startedAt) / 1000;
  return {
    offeredPerSec: schedule.fired / ((scheduleEnd - schedule.startedAt) / 1000),
    achievedPerSec: outcomes.ok / elapsedS,
    recordsPerSec: (outcomes.ok * request.records) / elapsedS,
    scheduled: schedule.fired,
    shed,
    unfinished: outstanding.size,
    outcomes,
    latencyMs: summarize(histogram),
    maxSchedulerLagMs: schedule.maxLagMs,
  };
}
