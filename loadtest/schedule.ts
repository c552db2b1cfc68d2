/**
 * A constant arrival rate: event i is due at start + i / rate, whatever happened to earlier ones.
 * Callers measure latency from the due time, so a stall in the system under test (or in this
 * process) shows up as latency instead of silently lowering the rate (coordinated omission).
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface ScheduleOptions {
  ratePerSec: number;
  durationMs: number;
  /** Upper bound on events, whatever the rate and duration. */
  maxEvents: number;
  /** Called once per event with its due time (performance.now() clock); must not block. */
  fire: (dueAt: number) => void;
}

export interface ScheduleResult {
  fired: number;
  startedAt: number;
  /** How late this process fired the latest event: the generator's own share of any latency. */
  maxLagMs: number;
}

export async function runAtConstantRate(options: ScheduleOptions): Promise<ScheduleResult> {
  const total = Math.min(options.maxEvents, Math.floor((options.ratePerSec * options.durationMs) / 1000));
  const interval = 1000 / options.ratePerSec;
  const startedAt = performance.now();
  let fired = 0;
  let maxLagMs = 0;
  while (fired < total) {
    const now = performance.now();
    // Everything due by now goes out in this turn; the timer below only decides when to look again.
    while (fired < total) {
      const dueAt = startedAt + fired * interval;
      if (dueAt > now) break;
      maxLagMs = Math.max(maxLagMs, now - dueAt);
      options.fire(dueAt);
      fired++;
    }
    if (fired < total) {
      const wait = startedAt + fired * interval - performance.now();
      // Node timers have a 1 ms floor; waiting 0 still lets I/O callbacks (responses) run.
      await sleep(wait >= 1 ? Math.floor(wait) : 0);
    }
  }
  return { fired, startedAt, maxLagMs };
}
