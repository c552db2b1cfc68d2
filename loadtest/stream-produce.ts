/**
 * v3 streaming produce: one chunked POST carrying concatenated JSON records, answered by one
 * `{...}\r\n` report per record, in record order, while the body is still being sent. Record i's
 * report is the i-th line, so its latency is known without any id in the record.
 */
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { Pool } from "undici";
import { createHistogram, type LatencySummary, recordMs, summarize } from "./latency.ts";

export interface StreamOptions {
  pool: Pool;
  /** Path of POST /v3/clusters/{cluster}/topics/{topic}/records. */
  path: string;
  /** One record, encoded once: `{"value":{"type":"BINARY","data":"..."}}`. */
  record: Buffer;
  /** Null: as fast as the window allows; otherwise records due at a constant rate. */
  ratePerSec: number | null;
  durationMs: number;
  maxRecords: number;
  /** Records written but not yet reported, at most. */
  window: number;
  drainTimeoutMs: number;
}

export interface StreamResult {
  offeredPerSec: number | null;
  recordsPerSec: number;
  written: number;
  delivered: number;
  failed: number;
  unfinished: number;
  /** Fixed rate: from each record's intended send time to its report; max: from its write. */
  latencyMs: LatencySummary | null;
  maxSchedulerLagMs: number;
  status: number;
}

const CRLF = Buffer.from("\r\n");
const OK_REPORT = Buffer.from('"error_code":200');

export async function runStream(options: StreamOptions): Promise<StreamResult> {
  const histogram = createHistogram();
  const { ratePerSec, window } = options;
  const interval = ratePerSec === null ? 0 : 1000 / ratePerSec;
  const total = Math.min(
    options.maxRecords,
    ratePerSec === null ? options.maxRecords : Math.floor((ratePerSec * options.durationMs) / 1000),
  );
  // Intended (fixed rate) or actual (max) send time of each record still awaiting its report.
  const sentAt = new Float64Array(window);
  let written = 0;
  let reported = 0;
  let delivered = 0;
  let failed = 0;
  let maxLag = 0;
  let lastReportAt = 0;
  let wake: (() => void) | null = null;
  const startedAt = performance.now();
  const stopAt = startedAt + options.durationMs;

  async function* body(): AsyncGenerator<Buffer> {
    while (written < total && performance.now() < stopAt + (ratePerSec === null ? 0 : interval)) {
      const now = performance.now();
      let due = ratePerSec === null ? total : Math.min(total, Math.floor((now - startedAt) / interval) + 1);
      due = Math.min(due, reported + window);
      if (due <= written) {
        if (reported + window <= written) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        } else {
          const wait = startedAt + written * interval - performance.now();
          await sleep(wait >= 1 ? Math.floor(wait) : 0);
        }
        continue;
      }
      const count = due - written;
      for (let i = written; i < due; i++) {
        const intended = ratePerSec === null ? now : startedAt + i * interval;
        if (ratePerSec !== null) maxLag = Math.max(maxLag, now - intended);
        sentAt[i % window] = intended;
      }
      written = due;
      yield count === 1 ? options.record : Buffer.concat(new Array(count).fill(options.record));
    }
  }

  const onReport = (line: Buffer) => {
    if (line.length === 0) return;
    lastReportAt = performance.now();
    recordMs(histogram, lastReportAt - (sentAt[reported % window] as number));
    reported++;
    if (line.includes(OK_REPORT)) delivered++;
    else failed++;
    if (wake && reported + window > written) {
      const w = wake;
      wake = null;
      w();
    }
  };

  let status = 0;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.durationMs + options.drainTimeoutMs);
  try {
    const response = await options.pool.request({
      method: "POST",
      path: options.path,
      headers: { "content-type": "application/json", accept: "application/json" },
      body: Readable.from(body(), { objectMode: false }),
      signal: controller.signal,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    status = response.statusCode;
    let pending: Buffer = Buffer.alloc(0);
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let start = 0;
      for (let end = pending.indexOf(CRLF, start); end !== -1; end = pending.indexOf(CRLF, start)) {
        onReport(pending.subarray(start, end));
        start = end + 2;
      }
      pending = pending.subarray(start);
    }
  } catch {
    // Aborted by the drain timer or a broken connection: what was not reported is unfinished.
  } finally {
    clearTimeout(timer);
    (wake as (() => void) | null)?.();
  }
  const endedAt = performance.now();
  for (let i = reported; i < written; i++) recordMs(histogram, endedAt - (sentAt[i % window] as number));
  const elapsedS = (Math.max(lastReportAt, startedAt + 1) - startedAt) / 1000;
  return {
    offeredPerSec: ratePerSec,
    recordsPerSec: delivered / elapsedS,
    written,
    delivered,
    failed,
    unfinished: written - reported,
    latencyMs: summarize(histogram),
    maxSchedulerLagMs: maxLag,
    status,
  };
}
