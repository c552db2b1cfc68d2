/**
 * Reads single values from a gateway's Prometheus endpoint. prom-client resets its event-loop
 * delay histogram on every scrape, so a scrape before a phase and one after it give the lag
 * percentiles of that phase alone.
 */
import { request } from "undici";

/** The value of the first sample of `name` (any labels), or null when absent or unreachable. */
export async function scrapeMetric(gatewayUrl: string, name: string): Promise<number | null> {
  try {
    const response = await request(`${gatewayUrl}/metrics`, { headersTimeout: 5000, bodyTimeout: 5000 });
    const text = await response.body.text();
    if (response.statusCode !== 200) return null;
    for (const line of text.split("\n")) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== " " && rest[0] !== "{") continue;
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      return Number.isFinite(value) ? value : null;
    }
    return null;
  } catch {
    return null;
  }
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
