/**
 * Just enough PromQL to list the metric names an expression reads, so dashboards and alert rules can
 * be checked against what a gateway's /metrics really exposes. Grafana's template variables
 * ($job, ${node}, $__rate_interval) are accepted wherever Grafana allows them.
 */

/** Words that are never metric names: operators, modifiers and literals. */
const keywords = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"]);
/** Keywords followed by a parenthesised list of label names. */
const labelListKeywords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
/** Aggregation operators, which may be followed by `by (...)` or `without (...)` before their `(`. */
const aggregations = new Set([
  "sum",
  "avg",
  "min",
  "max",
  "count",
  "group",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
  "limitk",
  "limit_ratio",
]);

const isIdentStart = (c: string) => /[A-Za-z_:]/.test(c);
const isIdentPart = (c: string) => /[A-Za-z0-9_:]/.test(c);

/** Index just past the string literal that starts at `i` (", ' or `). */
function skipString(text: string, i: number): number {
  const quote = text[i];
  let j = i + 1;
  while (j < text.length && text[j] !== quote) j += text[j] === "\\" && quote !== "`" ? 2 : 1;
  return j + 1;
}

/** Index just past the bracket group that opens at `i`, skipping strings inside it. */
function skipGroup(text: string, i: number, open: string, close: string): number {
  let depth = 0;
  let j = i;
  while (j < text.length) {
    const c = text[j] as string;
    if (c === '"' || c === "'" || c === "`") {
      j = skipString(text, j);
      continue;
    }
    if (c === open) depth++;
    if (c === close && --depth === 0) return j + 1;
    j++;
  }
  throw new Error(`unbalanced "${open}" at ${i} in: ${text}`);
}

function skipSpace(text: string, i: number): number {
  let j = i;
  while (j < text.length && /\s/.test(text[j] as string)) j++;
  return j;
}

/** The distinct metric names `expr` selects, in order of appearance. */
export function metricNames(expr: string): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < expr.length && expr[i] !== "\n") i++;
    } else if (c === '"' || c === "'" || c === "`") {
      i = skipString(expr, i);
    } else if (c === "{") {
      i = skipGroup(expr, i, "{", "}"); // label matchers
    } else if (c === "[") {
      i = skipGroup(expr, i, "[", "]"); // range or subquery
    } else if (c === "$") {
      // A Grafana variable: $name or ${name[:format]}.
      i = expr[i + 1] === "{" ? skipGroup(expr, i + 1, "{", "}") : i + 1;
      while (i < expr.length && isIdentPart(expr[i] as string)) i++;
    } else if (/[0-9.]/.test(c)) {
      while (i < expr.length && /[0-9A-Za-z_.]/.test(expr[i] as string)) i++; // 0.99, 1e3, 5m, 0x1f
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < expr.length && isIdentPart(expr[i] as string)) i++;
      const word = expr.slice(start, i);
      const next = skipSpace(expr, i);
      if (labelListKeywords.has(word)) {
        if (expr[next] === "(") i = skipGroup(expr, next, "(", ")");
      } else if (keywords.has(word.toLowerCase()) || expr[next] === "(") {
        // an operator, a literal, or a function/aggregation call
      } else if (aggregations.has(word) && /^(by|without)\b/.test(expr.slice(next))) {
        // `sum by (x) (...)`: the aggregation's own name
      } else if (!names.includes(word)) {
        names.push(word);
      }
    } else {
      i++;
    }
  }
  return names;
}

/** Metric families of a Prometheus text exposition, from its `# TYPE name type` lines. */
export function exposedMetrics(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const line of exposition.split("\n")) {
    const match = /^# TYPE (\S+) (\S+)/.exec(line);
    if (match) families.set(match[1] as string, match[2] as string);
  }
  return families;
}

/** Whether `name` is a series of one of `families` (histograms and summaries add _bucket/_sum/_count). */
export function isExposed(name: string, families: Map<string, string>): boolean {
  if (families.has(name)) return true;
  const match = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!match) return false;
  const type = families.get(match[1] as string);
  return type === "histogram" || (type === "summary" && match[2] !== "bucket");
}
