/** Prints vitest's JSON report as one plain closing line: "tests: N passed, N failed, N skipped". */
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? ".test-results.json";
try {
  const report = JSON.parse(readFileSync(file, "utf8"));
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
} catch (error) {
  console.log(`tests: no report (${(error as Error).message})`);
  process.exitCode = 1;
}
