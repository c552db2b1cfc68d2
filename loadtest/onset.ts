/**
 * What happens when load starts: bursts of a constant rate (`--slice-ms` long, `--gap-ms` apart),
 * each request's latency from its intended send time, and the p99 of each 100 ms after a burst
 * began, beside how late this process itself was in that window. A tail that sits in the first
 * buckets is the load's onset, not its level. `--path /healthz` (any URL) sends GET requests of the
 * given path instead of 1-record v2 produce requests to `--topic`.
 *
 *   node loadtest/onset.ts --url http://127.0.0.1:9501 --topic T [--rate 5000] [--slices 8]
 *     [--slice-ms 1000] [--gap-ms 1000]
 *   node loadtest/onset.ts --url http://127.0.0.1:9501 --path /healthz
 */
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { produceV2Request, type RequestSpec, send } from "./http-request.ts";
import { createHistogram, type Histogram, recordMs } from "./latency.ts";
import { runAtConstantRate } from "./schedule.ts";

const BUCKET_MS = 100;

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    topic: { type: "string" },
    path: { type: "string" },
    rate: { type: "string", default: "5000" },
    slices: { type: "string", default: "8" },
    "slice-ms": { type: "string", default: "1000" },
    "gap-ms": { type: "string", default: "1000" },
  },
});
if (!values.url || (!values.topic && !values.path)) {
  throw new Error("usage: node loadtest/onset.ts --url URL (--topic T | --path /healthz) [--rate N] ...");
}
const rate = Number(values.rate);
const slices = Number(values.slices);
const sliceMs = Number(values["slice-ms"]);
const gapMs = Number(values["gap-ms"]);
const spec: RequestSpec = values.path
  ? { label: `GET ${values.path}`, method: "GET", path: values.path, headers: {}, body: null, records: 0 }
  : produceV2Request(values.topic as string, Buffer.alloc(1024, 7), 1);

const pool = new Pool(values.url, { connections: 128, pipelining: 1 });
const buckets: Histogram[] = Array.from({ length: Math.ceil(sliceMs / BUCKET_MS) }, () => createHistogram());
const lateness = buckets.map(() => 0);
const all = createHistogram();
const bucketOf = (sinceStart: number) => Math.min(buckets.length - 1, Math.floor(sinceStart / BUCKET_MS));

// Warm connections and code first: only the bursts after it are measured.
await runAtConstantRate({ ratePerSec: rate, durationMs: 2000, maxEvents: 1e9, fire: () => void send(pool, spec) });
await new Promise((resolve) => setTimeout(resolve, 500));
for (let s = 0; s < slices; s++) {
  const answers: Promise<void>[] = [];
  const startedAt = performance.now();
  await runAtConstantRate({
    ratePerSec: rate,
    durationMs: sliceMs,
    maxEvents: 1e9,
    fire: (dueAt) => {
      const bucket = bucketOf(dueAt - startedAt);
      lateness[bucket] = Math.max(lateness[bucket] ?? 0, performance.now() - dueAt);
      answers.push(
        send(pool, spec).then(() => {
          const ms = performance.now() - dueAt;
          recordMs(all, ms);
          recordMs(buckets[bucket] as Histogram, ms);
        }),
      );
    },
  });
  await Promise.all(answers);
  if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
}
const ms = (h: Histogram, p: number) => (h.getValueAtPercentile(p) / 1000).toFixed(1);
console.log(`${spec.label} at ${rate}/s, ${slices} bursts of ${sliceMs} ms, ${gapMs} ms apart`);
console.log(`all: p50 ${ms(all, 50)} ms, p99 ${ms(all, 99)} ms`);
console.log(`p99 per ${BUCKET_MS} ms since a burst began: ${buckets.map((h) => ms(h, 99)).join(" ")}`);
console.log(`this process's lateness (max) per ${BUCKET_MS} ms: ${lateness.map((l) => l.toFixed(1)).join(" ")}`);
await pool.close();
