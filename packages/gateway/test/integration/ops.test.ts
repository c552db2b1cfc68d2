/** Operational endpoints of every gateway: Confluent's root, health, readiness and Prometheus metrics. */
import { describe, expect, it } from "vitest";
import { call, gatewayUrl, lbUrl, unique } from "./helpers.ts";
import { b64, createTopic, produceV2, produceV3 } from "./produce-helpers.ts";

/** The value of one sample in Prometheus text, or undefined. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("ops endpoints", () => {
  it("answers GET / with {}, /healthz and /readyz with 200 on every gateway and through the balancer", async () => {
    for (const base of [lbUrl(), gatewayUrl(0), gatewayUrl(1), gatewayUrl(2)]) {
      const root = await call("GET", `${base}/`);
      expect([root.status, root.json]).toEqual([200, {}]);
      const health = await call("GET", `${base}/healthz`);
      expect([health.status, health.json]).toEqual([200, { status: "ok" }]);
      const ready = await call("GET", `${base}/readyz`);
      expect([ready.status, ready.json]).toEqual([200, { status: "ready" }]);
    }
  });

  it("exposes request, produce and event-loop metrics after produce traffic", async () => {
    const topic = await createTopic(unique("ops-metrics"), 1);
    const base = gatewayUrl(1);
    const v2 = await produceV2(
      topic,
      { records: [{ value: b64("a") }, { value: b64("b") }, { value: b64("c") }] },
      { base },
    );
    expect(v2.status).toBe(200);
    const v3 = await produceV3(topic, '{"value":{"type":"STRING","data":"d"}}{"value":{"type":"STRING","data":"e"}}', {
      base,
    });
    expect(v3.status).toBe(200);

    const res = await call("GET", `${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    const metrics = res.text;
    // Exactly the five records of this topic, counted on the gateway that took them.
    expect(sample(metrics, "wharf_records_produced_total", { topic })).toBe(5);
    expect(
      sample(metrics, "wharf_http_request_duration_seconds_count", {
        route: "/topics/:topic",
        method: "POST",
        status: "200",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(metrics, "wharf_http_request_duration_seconds_count", { method: "POST", status: "200" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, "wharf_delivery_latency_seconds_count")).toBeGreaterThanOrEqual(3);
    expect(sample(metrics, "wharf_producer_queue_records")).toBe(0);
    expect(sample(metrics, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(metrics).toMatch(/^# TYPE wharf_http_request_duration_seconds histogram$/m);
  });
});
