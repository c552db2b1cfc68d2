/**
 * Server-Sent Events topic streams (GET /topics/{t}/stream): what one stream delivers reading a
 * full topic from the beginning, and fan-out: 100 and then 1,000 streams open on one topic while a
 * plain producer writes to it at a fixed rate. Reports events delivered per second over all
 * streams, the share of (stream, record) pairs delivered, the gateway's RSS per open stream, and
 * for one stream the latency from a record's intended produce time to its event here.
 */
import { readFileSync } from "node:fs";
import { type Dispatcher, Pool } from "undici";
import { createHistogram, recordMs, summarize } from "./latency.ts";
import { DRAIN_TIMEOUT_MS, MAX_RECORDS, measure, type PhaseResult, type ScenarioContext } from "./phase.ts";
import { createPlainProducer } from "./plain-producer.ts";

/** Events per second over all streams that the generator counts on two shared cores beside the gateway. */
const DELIVERED_BUDGET = 20_000;
/**
 * Open streams and records/s per fan-out phase; the gateway's stream.max.open defaults to 1,000.
 * The first two offer the generator's budget; since topic streams share one consumer (round 6)
 * the gateway delivers that on a third of a core, so the last offers three times as much, with
 * the generator itself then taking most of a core.
 */
const FANOUT = [
  { streams: 100, rate: DELIVERED_BUDGET / 100 },
  { streams: 1000, rate: DELIVERED_BUDGET / 1000 },
  { streams: 1000, rate: (3 * DELIVERED_BUDGET) / 1000, label: "3x budget" },
];
/** Streams opened at once: each costs the gateway a consumer and a ListOffsets. */
const OPEN_CONCURRENCY = 25;
const OPEN_TIMEOUT_MS = 120_000;
/** Records the single-stream phase reads from the beginning. */
const SINGLE_RECORDS = 50_000;
const TAIL_MS = 3000;
const DATA = Buffer.from("\ndata: ");

/**
 * Counts `data:` lines in an event stream's chunks, markers split between chunks included (missing
 * those left the single-stream phase a few events short of its count, waiting out its deadline).
 */
export class DataLineCounter {
  /** The stream's last bytes, which a marker ending in the next chunk may start in. */
  #carry: Buffer = Buffer.alloc(0);

  count(chunk: Buffer): number {
    let events = 0;
    const carried = this.#carry.length;
    if (carried > 0) {
      const seam = Buffer.concat([this.#carry, chunk.subarray(0, DATA.length - 1)]);
      for (let at = seam.indexOf(DATA); at !== -1 && at < carried; at = seam.indexOf(DATA, at + 1)) events++;
    }
    for (let at = chunk.indexOf(DATA); at !== -1; at = chunk.indexOf(DATA, at + DATA.length)) events++;
    const tail = chunk.length >= DATA.length - 1 ? chunk : Buffer.concat([this.#carry, chunk]);
    this.#carry = Buffer.from(tail.subarray(-(DATA.length - 1)));
    return events;
  }
}

/** One open stream: counts its events; the sampled one also reads each record's stamped key. */
class StreamReader implements Dispatcher.DispatchHandler {
  events = 0;
  opened = false;
  failed: string | null = null;
  #tail = "";
  readonly #counter = new DataLineCounter();
  readonly #onData: ((data: string) => void) | null;
  readonly #onOpen: () => void;
  #controller: Dispatcher.DispatchController | null = null;

  constructor(onOpen: () => void, onData: ((data: string) => void) | null) {
    this.#onOpen = onOpen;
    this.#onData = onData;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number): void {
    if (status !== 200) this.failed = `HTTP ${status}`;
    this.opened = true;
    this.#onOpen();
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#onData) {
      this.#parse(chunk.toString());
      return;
    }
    this.events += this.#counter.count(chunk);
  }

  #parse(text: string): void {
    const lines = (this.#tail + text).split("\n");
    this.#tail = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("data: ")) continue;
      this.events++;
      this.#onData?.(line.slice(6));
    }
  }

  onResponseEnd(): void {}

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    if (!this.failed && !this.#closing) this.failed = error.message;
    if (!this.opened) {
      this.opened = true;
      this.#onOpen();
    }
  }

  #closing = false;
  close(): void {
    this.#closing = true;
    this.#controller?.abort(new Error("closed by the benchmark"));
  }
}

const rssMiB = (pid: number | null) => {
  if (pid === null) return null;
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    return line ? Number(line[1]) / 1024 : null;
  } catch {
    return null;
  }
};

async function openStreams(ctx: ScenarioContext, pool: Pool, count: number, from: string, sampled: boolean) {
  const path = `/topics/${encodeURIComponent(ctx.target.topic)}/stream?from=${from}`;
  const readers: StreamReader[] = [];
  const histogram = createHistogram();
  const onData = (data: string) => {
    const key = (JSON.parse(data) as { key: string | null }).key;
    const stamp = key === null ? Number.NaN : Number(Buffer.from(key, "base64").toString());
    if (Number.isFinite(stamp)) recordMs(histogram, performance.timeOrigin + performance.now() - stamp);
  };
  const deadline = performance.now() + OPEN_TIMEOUT_MS;
  for (let i = 0; i < count && performance.now() < deadline; i += OPEN_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(OPEN_CONCURRENCY, count - i) }, (_, k) => {
      return new Promise<void>((resolve) => {
        const reader = new StreamReader(resolve, sampled && i + k === 0 ? onData : null);
        readers.push(reader);
        pool.dispatch({ method: "GET", path, headers: { accept: "text/event-stream" } }, reader);
      });
    });
    await Promise.all(batch);
  }
  return { readers, histogram };
}

/** One stream reading a prefilled topic from the beginning: a stream's own throughput. */
async function single(ctx: ScenarioContext): Promise<PhaseResult> {
  const filler = await createPlainProducer(ctx.target.kafka, ctx.target.topic, ctx.value);
  try {
    await filler.maxThroughput({
      durationMs: 60_000,
      maxRecords: SINGLE_RECORDS,
      window: 20_000,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
    });
  } finally {
    await filler.close();
  }
  const pool = new Pool(ctx.target.gatewayUrl, { connections: 1, bodyTimeout: 0, headersTimeout: 30_000 });
  ctx.log(`fanout: one stream from the beginning, ${SINGLE_RECORDS} records`);
  const startedAt = performance.now();
  try {
    const m = await measure(ctx, async () => {
      const { readers } = await openStreams(ctx, pool, 1, "earliest", false);
      const reader = readers[0] as StreamReader;
      const end = startedAt + 2 * ctx.durationMs;
      while (reader.events < SINGLE_RECORDS && !reader.failed && performance.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      reader.close();
      return reader;
    });
    const elapsedS = (performance.now() - startedAt) / 1000;
    return {
      scenario: "fanout",
      phase: "max",
      label: "SSE topic stream, 1 stream from the beginning",
      loadFraction: null,
      model: "closed",
      recordsPerRequest: null,
      connections: 1,
      offeredPerSec: null,
      requestsPerSec: null,
      recordsPerSec: m.result.events / elapsedS,
      latencyMs: null,
      serviceTimeMs: null,
      counts: { ok: m.result.events, failed: m.result.failed ? 1 : 0 },
      maxSchedulerLagMs: null,
      eventLoopLagP99Ms: m.eventLoopLagP99Ms,
      gc: m.gc,
      idleFlushes: m.idleFlushes,
      stats: m.stats,
    };
  } finally {
    await pool.destroy();
  }
}

async function fanout(ctx: ScenarioContext, streams: number, rate: number, tag?: string): Promise<PhaseResult> {
  const pool = new Pool(ctx.target.gatewayUrl, { connections: streams, bodyTimeout: 0, headersTimeout: 60_000 });
  const producer = await createPlainProducer(ctx.target.kafka, ctx.target.topic, ctx.value, { stampKeys: true });
  let readers: StreamReader[] = [];
  try {
    const rssBefore = rssMiB(ctx.target.gatewayPid);
    ctx.log(`fanout: opening ${streams} streams`);
    const opened = await openStreams(ctx, pool, streams, "latest", true);
    readers = opened.readers;
    const open = readers.filter((r) => r.opened && !r.failed).length;
    // The first events (retry:, the cursor's start) are out; let the consumers settle.
    await new Promise((r) => setTimeout(r, 2000));
    const rssOpen = rssMiB(ctx.target.gatewayPid);
    const before = readers.reduce((n, r) => n + r.events, 0);
    ctx.log(`fanout: ${open} of ${streams} open; producing ${rate} records/s`);
    const startedAt = performance.now();
    const m = await measure(ctx, async () => {
      const produced = await producer.fixedRate({
        ratePerSec: rate,
        durationMs: ctx.durationMs,
        maxRecords: MAX_RECORDS,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
      });
      const expected = () => produced.delivered * open;
      const delivered = () => readers.reduce((n, r) => n + r.events, 0) - before;
      const tailEnd = performance.now() + TAIL_MS;
      while (delivered() < expected() && performance.now() < tailEnd) await new Promise((r) => setTimeout(r, 20));
      return { produced, delivered: delivered(), expected: expected() };
    });
    const elapsedS = (performance.now() - startedAt) / 1000;
    const perStreamMiB = rssBefore !== null && rssOpen !== null && open > 0 ? (rssOpen - rssBefore) / open : null;
    return {
      scenario: "fanout",
      phase: "fixed-rate",
      label: `SSE topic stream fan-out, ${streams} streams${tag ? ` (${tag})` : ""}`,
      loadFraction: null,
      model: "open",
      recordsPerRequest: null,
      connections: open,
      offeredPerSec: m.result.produced.offeredPerSec,
      requestsPerSec: null,
      recordsPerSec: m.result.delivered / elapsedS,
      // One stream's events, from each record's intended produce time.
      latencyMs: summarize(opened.histogram),
      serviceTimeMs: null,
      counts: {
        ok: m.result.delivered,
        failed: readers.filter((r) => r.failed).length,
        unfinished: Math.max(0, m.result.expected - m.result.delivered),
      },
      maxSchedulerLagMs: m.result.produced.maxSchedulerLagMs,
      eventLoopLagP99Ms: m.eventLoopLagP99Ms,
      gc: m.gc,
      idleFlushes: m.idleFlushes,
      stats: m.stats,
      fanout: {
        streams,
        open,
        rssBeforeMiB: rssBefore,
        rssOpenMiB: rssOpen,
        rssPerStreamMiB: perStreamMiB,
        deliveredShare: m.result.expected > 0 ? m.result.delivered / m.result.expected : null,
      },
    };
  } finally {
    for (const r of readers) r.close();
    await producer.close();
    await pool.destroy();
  }
}

export async function fanoutScenario(ctx: ScenarioContext): Promise<PhaseResult[]> {
  const results = [await single(ctx)];
  for (const { streams, rate, label } of FANOUT) {
    results.push(await fanout(ctx, streams, rate, label));
    // The gateway closes the streams' consumers after the clients left; give it a moment.
    await new Promise((r) => setTimeout(r, 3000));
  }
  return results;
}
