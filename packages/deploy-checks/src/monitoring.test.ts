/**
 * The Grafana dashboard and the alert rules, statically: well-formed, and the chart's PrometheusRule
 * the same alerts as deploy/prometheus/wharf-rules.yaml. Whether their metric names exist in a real
 * gateway's /metrics is checked by packages/gateway/test/integration/dashboard.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type AlertRule, dashboardExpressions, readDashboard, readRules, ruleExpressions } from "./artefacts.ts";
import { helmBinary, one, render } from "./helm.ts";
import { metricNames } from "./promql.ts";

beforeAll(() => void helmBinary(), 900_000);

describe("deploy/grafana/wharf-dashboard.json", () => {
  const dashboard = readDashboard();

  it("gives every panel a unique id and a place on the 24-column grid", () => {
    const ids = dashboard.panels.map((p) => (p as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels as { title: string; gridPos: { x: number; w: number } }[]) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it("queries through the datasource variable, filtered by the job and node variables", () => {
    for (const { where, expr } of dashboardExpressions(dashboard).filter((e) => e.where.startsWith("panel"))) {
      expect(expr, where).toContain('job=~"$job"');
      expect(expr, where).toContain('node=~"$node"');
    }
    const targets = dashboard.panels.flatMap(
      (p) => (p as { targets?: { datasource: { uid: string } }[] }).targets ?? [],
    );
    expect(targets.length).toBeGreaterThan(10);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
    for (const target of targets) expect(target.datasource.uid).toBe("${datasource}");
  });

  it("covers what an operator asks first", () => {
    const names = new Set(dashboardExpressions(dashboard).flatMap((e) => metricNames(e.expr)));
    for (const name of [
      "wharf_http_request_duration_seconds_count",
      "wharf_http_request_duration_seconds_bucket",
      "wharf_records_produced_total",
      "wharf_delivery_latency_seconds_bucket",
      "wharf_producer_queue_records",
      "wharf_consumer_instances",
      "wharf_forwards_total",
      "wharf_adoptions_total",
      "nodejs_eventloop_lag_p99_seconds",
    ]) {
      expect(names, name).toContain(name);
    }
  });
});

describe("alert rules", () => {
  const standalone = readRules();
  const alerts = standalone.groups.flatMap((g) => g.rules);

  it("alert on error rate, produce latency, event-loop lag, lease renewal failures and no ready nodes", () => {
    expect(alerts.map((r) => r.alert)).toEqual([
      "WharfHighErrorRate",
      "WharfProduceLatencyHigh",
      "WharfEventLoopLag",
      "WharfLeaseRenewalFailures",
      "WharfNoReadyNodes",
    ]);
    for (const rule of alerts) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.for, rule.alert).toMatch(/^\d+m$/);
    }
    for (const { where, expr } of ruleExpressions(standalone))
      expect(metricNames(expr).length, where).toBeGreaterThan(0);
  });

  it("the chart's PrometheusRule holds the same alerts, selecting the release's job and namespace", async () => {
    const manifests = await render({
      ciFiles: ["01-minimal-values.yaml"],
      values: { prometheusRule: { enabled: true } },
    });
    const chartRules: AlertRule[] = one(manifests, "PrometheusRule").spec.groups.flatMap(
      (g: { rules: AlertRule[] }) => g.rules,
    );
    const normalise = (expr: string) =>
      expr.replaceAll('job="demo-wharf", namespace="streaming"', 'job="wharf"').replace(/\s+/g, " ").trim();
    expect(chartRules.map((r) => r.alert)).toEqual(alerts.map((r) => r.alert));
    chartRules.forEach((rule, i) => {
      const twin = alerts[i] as AlertRule;
      expect(normalise(rule.expr), rule.alert).toBe(normalise(twin.expr));
      expect(rule.for, rule.alert).toBe(twin.for);
      expect(rule.labels, rule.alert).toEqual(twin.labels);
      expect(rule.annotations, rule.alert).toEqual(twin.annotations);
    });
  });
});
