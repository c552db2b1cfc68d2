/**
 * Reads single values from a gateway's Prometheus endpoint. prom-client resets its event-loop
 * delay histogram on every scrape, so a scrape before a phase and one after it give the lag
 * percentiles of that phase alone.
 */
import { request } from "undici";

/** The gateway's whole /metrics text, or null when it does not answer. */
export async function metricsText(gatewayUrl: string): Promise<string | null> {
  try {
    const response = await request(`${gatewayUrl}/metrics`, { headersTimeout: 5000, bodyTimeout: 5000 });
    const text = await response.body.text();
    return response.statusCode === 200 ? text : null;
  } catch {
    return null;
  }
}

/**
 * The value of the first sample of `name` in a /metrics text (any labels; with `le`, the histogram
 * bucket of that bound), or null when absent.
 */
export function sampleOf(text: string, name: string, le?: string): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    if (le !== undefined && !rest.includes(`le="${le}"`)) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    return Number.isFinite(value) ? value : null;
  }
  return null;
}

/** The value of the first sample of `name` (any labels), or null when absent or unreachable. */
export async function scrapeMetric(gatewayUrl: string, name: string): Promise<number | null> {
  const text = await metricsText(gatewayUrl);
  return text === null ? null : sampleOf(text, name);
}

export const EVENT_LOOP_LAG_P99 = "nodejs_eventloop_lag_p99_seconds";

/** Starts a phase's event-loop lag window; `stop` answers the gateway's lag p99 over it, in ms. */
export async function eventLoopLagWindow(gatewayUrl: string): Promise<{ stop(): Promise<number | null> }> {
  await scrapeMetric(gatewayUrl, EVENT_LOOP_LAG_P99);
  return {
    async stop() {
      const seconds = await scrapeMetric(gatewayUrl, EVENT_LOOP_LAG_P99);
      return seconds === null ? null : seconds * 1000;
    },
  };
}

/** The gateway's garbage collection over a phase, from prom-client's nodejs_gc_duration_seconds. */
export interface GcSummary {
  /** Time spent in GC pauses, all kinds. */
  totalMs: number;
  pauses: number;
  /** Pauses longer than 10 ms: each one lands in the tail of every request it holds up. */
  over10ms: number;
}

interface GcCounters {
  sum: number;
  count: number;
  upTo10ms: number;
}

async function gcCounters(gatewayUrl: string): Promise<GcCounters | null> {
  try {
    const response = await request(`${gatewayUrl}/metrics`, { headersTimeout: 5000, bodyTimeout: 5000 });
    const text = await response.body.text();
    if (response.statusCode !== 200) return null;
    const counters = { sum: 0, count: 0, upTo10ms: 0 };
    for (const line of text.split("\n")) {
      if (!line.startsWith("nodejs_gc_duration_seconds")) continue;
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (!Number.isFinite(value)) continue;
      if (line.startsWith("nodejs_gc_duration_seconds_sum")) counters.sum += value;
      else if (line.startsWith("nodejs_gc_duration_seconds_count")) counters.count += value;
      else if (line.includes('le="0.01"')) counters.upTo10ms += value;
    }
    return counters;
  } catch {
    return null;
  }
}

/** Starts a phase's GC window; `stop` answers what the gateway's collector did during it. */
export async function gcWindow(gatewayUrl: string): Promise<{ stop(): Promise<GcSummary | null> }> {
  const before = await gcCounters(gatewayUrl);
  return {
    async stop() {
      const after = await gcCounters(gatewayUrl);
      if (!before || !after) return null;
      const pauses = after.count - before.count;
      return {
        totalMs: (after.sum - before.sum) * 1000,
        pauses,
        over10ms: pauses - (after.upTo10ms - before.upTo10ms),
      };
    },
  };
}
