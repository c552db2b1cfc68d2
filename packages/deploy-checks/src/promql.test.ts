import { describe, expect, it } from "vitest";
import { exposedMetrics, isExposed, metricNames } from "./promql.ts";

describe("metricNames", () => {
  it("finds the metric under functions, aggregations and label matchers", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(wharf_http_request_duration_seconds_bucket{job=~"$job", route!~"/a|/b"}[$__rate_interval])))',
      ),
    ).toEqual(["wharf_http_request_duration_seconds_bucket"]);
  });

  it("lists every metric of a binary expression once, ignoring operators, literals and modifiers", () => {
    const expr = `sum(rate(a_total{status=~"5.."}[5m])) / ignoring(status) group_left sum(rate(a_total[5m] offset 1h))
      > bool 0.05 and on (node) b_seconds or vector(0) unless max without (x) (c) > Inf`;
    expect(metricNames(expr)).toEqual(["a_total", "b_seconds", "c"]);
  });

  it("handles aggregations written after their label list and Grafana variables", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
    expect(metricNames("sum(x_total) by (node) + topk by (node) (3, y) + ${scale:raw} * z_bytes")).toEqual([
      "x_total",
      "y",
      "z_bytes",
    ]);
  });

  it("does not take label values or strings containing names for metrics", () => {
    expect(metricNames('count(up{job="not_a_metric", name=~"foo{bar}"}) # trailing comment with_words')).toEqual([
      "up",
    ]);
  });
});

describe("isExposed", () => {
  const families = exposedMetrics(
    [
      "# HELP h_seconds help",
      "# TYPE h_seconds histogram",
      "# TYPE c_total counter",
      "# TYPE s_seconds summary",
      'c_total{node="a"} 1',
    ].join("\n"),
  );

  it("accepts families and the series histograms and summaries derive from them", () => {
    for (const name of ["h_seconds_bucket", "h_seconds_sum", "h_seconds_count", "c_total", "s_seconds_sum"]) {
      expect(isExposed(name, families), name).toBe(true);
    }
  });

  it("refuses unknown names and suffixes a family type does not have", () => {
    for (const name of ["c_total_count", "s_seconds_bucket", "nope", "h_seconds_total"]) {
      expect(isExposed(name, families), name).toBe(false);
    }
  });
});
