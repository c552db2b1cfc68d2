/** What a run prints: a table for people, one JSON line for machines, and the pass/fail rule of both. */
import type { ScenarioResult } from "./run.ts";

/**
 * The targets: nothing acknowledged lost or misplaced, no consumer skip or replay before a commit,
 * no copy that no retry explains, every failure the client saw one it could act on, and a recovery.
 */
export function problems(result: ScenarioResult): string[] {
  const v = result.verdict;
  const out: string[] = [];
  if (result.error) out.push(result.error);
  if (v.lost > 0) out.push(`${v.lost} lost`);
  if (v.wrongOffsets > 0) out.push(`${v.wrongOffsets} wrong offsets`);
  if (v.duplicates > v.duplicatesFromRetries)
    out.push(`${v.duplicates - v.duplicatesFromRetries} duplicates no retry explains`);
  if (v.skips > 0) out.push(`${v.skips} skips`);
  if (v.reorders > 0) out.push(`${v.reorders} reorders`);
  if (v.misdelivered > 0) out.push(`${v.misdelivered} misdelivered`);
  if (v.nonRetriableErrors > 0) out.push(`${v.nonRetriableErrors} non-retriable produce errors`);
  if (v.consumerNonRetriableErrors > 0) out.push(`${v.consumerNonRetriableErrors} non-retriable consumer errors`);
  if (v.idleAfterFaults.length > 0) out.push(`no read served after the fault by ${v.idleAfterFaults.join(", ")}`);
  if (result.produceUnaffected && v.retriableErrors + v.nonRetriableErrors + v.unanswered > 0) {
    out.push(`produce noticed the fault: ${describe(v.produceFailures)}`);
  }
  if (v.acknowledged === 0) out.push("nothing acknowledged");
  if (v.faults > 0 && v.recoveryMs === null) out.push("produce never recovered");
  if (!result.drained) out.push("consumers did not catch up");
  return out;
}

/** "503/50301 x3, no answer x1" */
const describe = (tally: Record<string, number>) =>
  Object.entries(tally)
    .map(([how, n]) => `${how} x${n}`)
    .join(", ") || "none";

const COLUMNS: Array<[string, (r: ScenarioResult) => string | number]> = [
  ["scenario", (r) => r.name],
  ["requests", (r) => r.verdict.requests],
  ["attempts", (r) => r.verdict.attempts],
  ["acked", (r) => r.verdict.acknowledged],
  ["lost", (r) => r.verdict.lost],
  ["wrong off.", (r) => r.verdict.wrongOffsets],
  ["dup (retry)", (r) => `${r.verdict.duplicates} (${r.verdict.duplicatesFromRetries})`],
  ["retriable", (r) => r.verdict.retriableErrors],
  ["non-retr.", (r) => r.verdict.nonRetriableErrors + r.verdict.consumerNonRetriableErrors],
  ["unanswered", (r) => r.verdict.unanswered],
  ["consumed", (r) => r.verdict.consumed],
  ["skips", (r) => r.verdict.skips],
  ["reorders", (r) => r.verdict.reorders],
  ["recovery ms", (r) => r.verdict.recoveryMs ?? "never"],
  ["verdict", (r) => (problems(r).length === 0 ? "ok" : "FAIL")],
];

export function table(results: ScenarioResult[]): string {
  const rows = [COLUMNS.map(([name]) => name), ...results.map((r) => COLUMNS.map(([, cell]) => String(cell(r))))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  const out = [line(rows[0] as string[]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)];
  for (const r of results) {
    const found = problems(r);
    out.push("");
    out.push(`${r.name}: ${r.description} (${(r.durationMs / 1000).toFixed(0)} s, topic ${r.topic})`);
    out.push(
      `  consumer recovery ${r.verdict.consumeRecoveryMs ?? "never"} ms, redelivered ${r.verdict.redelivered}, ` +
        `consumer retriable errors ${r.verdict.consumerRetriableErrors}, commit regressions ${r.verdict.commitRegressions}, ` +
        `unacknowledged but stored ${r.verdict.unacknowledgedStored}, ` +
        `foreign ${r.verdict.foreign} (the readiness probes)`,
    );
    out.push(
      `  produce failures: ${describe(r.verdict.produceFailures)}, slowest attempt ${r.verdict.produceMaxMs} ms; ` +
        "consumer failures: " +
        `${describe(r.verdict.consumerFailures)}; longest consumer outage ${r.verdict.consumerOutageMs} ms`,
    );
    if (found.length > 0) out.push(`  FAIL: ${found.join("; ")}`);
    for (const [kind, examples] of Object.entries(r.verdict.examples)) {
      for (const example of examples) out.push(`  ${kind}: ${example}`);
    }
  }
  return out.join("\n");
}

export function jsonLine(results: ScenarioResult[], command: string): string {
  return JSON.stringify({
    command,
    ok: results.every((r) => problems(r).length === 0),
    scenarios: results.map((r) => ({
      name: r.name,
      ok: problems(r).length === 0,
      problems: problems(r),
      durationMs: r.durationMs,
      drained: r.drained,
      ...r.verdict,
    })),
  });
}
