/**
 * The Grafana dashboard and the Prometheus alert rules read only metrics a real gateway exposes: every
 * metric name in every query and alert expression is looked up in a running gateway's /metrics.
 */
import { describe, expect, it } from "vitest";
import {
  dashboardExpressions,
  readDashboard,
  readRules,
  ruleExpressions,
} from "../../../deploy-checks/src/artefacts.ts";
import { exposedMetrics, isExposed, metricNames } from "../../../deploy-checks/src/promql.ts";
import { call, gatewayUrl } from "./helpers.ts";

async function families(): Promise<Map<string, string>> {
  const res = await call("GET", `${gatewayUrl(0)}/metrics`);
  expect(res.status).toBe(200);
  return exposedMetrics(res.text);
}

describe("monitoring artefacts against a real gateway's /metrics", () => {
  it.each([
    ["deploy/grafana/wharf-dashboard.json", () => dashboardExpressions(readDashboard())],
    ["deploy/prometheus/wharf-rules.yaml", () => ruleExpressions(readRules())],
  ])("%s reads only exposed metrics", async (_file, expressions) => {
    const exposed = await families();
    const list = expressions();
    expect(list.length).toBeGreaterThan(0);
    const missing = list.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !isExposed(name, exposed))
        .map((name) => `${where}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it("labels every series with the node it came from, which the dashboard's $node variable lists", async () => {
    const res = await call("GET", `${gatewayUrl(0)}/metrics`);
    const samples = res.text.split("\n").filter((l) => l.startsWith("wharf_") || l.startsWith("nodejs_eventloop"));
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) expect(sample).toMatch(/[{,]node="[^"]+"/);
  });
});
