/**
 * A benchmark run stops what it started however it ends: on SIGINT/SIGTERM, and when it outlives
 * its watchdog (a hung phase must not leave a stack running on a shared machine).
 */
export function guardRun(cleanup: () => Promise<void>, log: (line: string) => void, watchdogMs: number): void {
  const abort = (why: string, code: number) => {
    log(`${why}: stopping what this run started`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => abort("interrupted", 130));
  process.once("SIGTERM", () => abort("terminated", 143));
  setTimeout(() => abort(`still running after ${watchdogMs / 60_000} min`, 1), watchdogMs).unref();
}
