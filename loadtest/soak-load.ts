/**
 * The soak's steady background load beside produce: v2 consumers polling (each through its own
 * node, so some are forwarded) and Server-Sent Events streams of a topic. Both count what they
 * get and every failure; neither retries silently: an error is counted, then the loop goes on.
 */
import { Pool, request } from "undici";
import type { V2Instance } from "./consumers.ts";
import { V2_BINARY } from "./http-request.ts";

const OFFSET_FIELD = Buffer.from('"offset":');
/** Bounds of each loop, beside the deadline. */
const MAX_POLLS = 2_000_000;
const MAX_RECONNECTS = 1000;

function countOccurrences(body: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = body.indexOf(needle); at !== -1; at = body.indexOf(needle, at + needle.length)) n++;
  return n;
}

export interface LoadCounters {
  records(): number;
  errors(): number;
  stop(): Promise<void>;
}

/** One poll loop per consumer, one request at a time as a REST Proxy client does. */
export function openConsumerPollers(
  consumers: { instance: V2Instance; url: string }[],
  deadline: number,
): LoadCounters {
  let records = 0;
  let errors = 0;
  let stopped = false;
  const pools: Pool[] = [];
  const loops = consumers.map(async ({ instance, url }) => {
    const pool = new Pool(url, { connections: 1 });
    pools.push(pool);
    const path = `${instance.path}/records?timeout=500&max_bytes=262144`;
    for (let i = 0; i < MAX_POLLS && !stopped && performance.now() < deadline; i++) {
      try {
        const response = await pool.request({ method: "GET", path, headers: { accept: V2_BINARY } });
        const body = Buffer.from(await response.body.arrayBuffer());
        if (response.statusCode === 200) records += countOccurrences(body, OFFSET_FIELD);
        else errors++;
      } catch {
        errors++;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  });
  return {
    records: () => records,
    errors: () => errors,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}

/** `count` browsers' worth of `GET /topics/{topic}/stream`, held open until the deadline. */
export function openTopicStreams(
  url: string,
  topic: string,
  count: number,
  deadline: number,
): { events(): number; errors(): number; stop(): Promise<void> } {
  let events = 0;
  let errors = 0;
  const abort = new AbortController();
  const loops = Array.from({ length: count }, async () => {
    let lastEventId: string | null = null;
    for (let i = 0; i < MAX_RECONNECTS && !abort.signal.aborted && performance.now() < deadline; i++) {
      try {
        const response = await request(`${url}/topics/${encodeURIComponent(topic)}/stream`, {
          headers: { accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
          signal: abort.signal,
          bodyTimeout: 0,
        });
        if (response.statusCode !== 200) {
          errors++;
          await response.body.dump();
          continue;
        }
        let pending = "";
        for await (const chunk of response.body as AsyncIterable<Buffer>) {
          pending += chunk.toString("utf8");
          const blocks = pending.split("\n\n");
          pending = blocks.pop() ?? "";
          for (const block of blocks) {
            const id = /^id: ?(.*)$/m.exec(block);
            if (id) lastEventId = id[1] as string;
            if (/^event: ?error$/m.test(block)) errors++;
            else if (/^data:/m.test(block)) events++;
          }
        }
        // The server ended a stream that should stay open: count it and resume where it was.
        if (!abort.signal.aborted) errors++;
      } catch {
        if (!abort.signal.aborted) errors++;
      }
    }
  });
  const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - performance.now()));
  return {
    events: () => events,
    errors: () => errors,
    async stop() {
      clearTimeout(timer);
      abort.abort();
      await Promise.all(loops);
    },
  };
}

/**
 * Feeds the consumers' and streams' topic at a modest fixed rate (`records` every `everyMs`, one
 * request each), so reading load stays steady whatever the main produce rate is.
 */
export function openSideProducer(url: string, topic: string, records: number, everyMs: number, deadline: number) {
  let produced = 0;
  let errors = 0;
  let stopped = false;
  const pool = new Pool(url, { connections: 2 });
  const body = JSON.stringify({
    records: Array.from({ length: records }, (_, i) => ({ value: Buffer.from(`side-${i}`).toString("base64") })),
  });
  const loop = (async () => {
    for (let next = performance.now(); !stopped && performance.now() < deadline && produced < 50_000_000; ) {
      try {
        const response = await pool.request({
          method: "POST",
          path: `/topics/${encodeURIComponent(topic)}`,
          headers: { "content-type": V2_BINARY },
          body,
        });
        await response.body.dump();
        if (response.statusCode === 200) produced += records;
        else errors++;
      } catch {
        errors++;
      }
      next += everyMs;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    records: () => produced,
    errors: () => errors,
    async stop() {
      stopped = true;
      await loop;
      await pool.close();
    },
  };
}
