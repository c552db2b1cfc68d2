/**
 * Shared topic feeds against a stand-in for Kafka (partitions as arrays, readers as positions in
 * them): fan-out of one rendering, late joiners, slow subscribers, the last one out, failures, and
 * streams moving between the feed and a consumer of their own without a gap or a repeat.
 */
import type Kafka from "@confluentinc/kafka-javascript";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../config.ts";
import type { ConsumedMessage } from "../../kafka/consumer-instance.ts";
import type { TopicStreamOptions } from "../../kafka/topic-stream.ts";
import { createMetrics } from "../../metrics.ts";
import type { StreamWrite } from "./event-stream.ts";
import { type Chunk, type FeedReader, type Subscription, TopicFeed } from "./topic-feed.ts";
import { createTopicFeeds } from "./topic-feeds.ts";
import type { TopicReader, TopicStreamSource } from "./topic-source.ts";

const TOPIC = "t";
const decoder = new TextDecoder();

/** Partitions as logs; each reader has its own positions and wakes when records are appended. */
class FakeTopic {
  readonly logs: ConsumedMessage[][];
  readonly readers: FakeReader[] = [];
  readonly #waiters = new Set<() => void>();
  constructor(partitions: number) {
    this.logs = Array.from({ length: partitions }, () => []);
  }
  append(partition: number, count = 1): void {
    const log = this.logs[partition] as ConsumedMessage[];
    for (let i = 0; i < count; i++) {
      const offset = log.length;
      log.push({
        topic: TOPIC,
        partition,
        offset,
        key: null,
        value: Buffer.from(`${partition}-${offset}`),
        size: 3,
      } as Kafka.Message);
    }
    this.wake();
  }
  wake(): void {
    for (const wake of this.#waiters) wake();
  }
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }
  /** Like TopicStream.open: start at the resume offset, else at the end (latest) or 0 (earliest). */
  open = async (options: TopicStreamOptions): Promise<FakeReader> => {
    const start = new Map<number, number>();
    for (const p of options.partitions) {
      const end = (this.logs[p] as ConsumedMessage[]).length;
      start.set(p, options.resume.get(p) ?? (options.from.kind === "earliest" ? 0 : end));
    }
    const reader = new FakeReader(this, start);
    this.readers.push(reader);
    return reader;
  };
  get open_readers(): number {
    return this.readers.filter((r) => !r.closed).length;
  }
}

class FakeReader implements TopicReader {
  readonly start: Map<number, number>;
  readonly #position: Map<number, number>;
  readonly #topic: FakeTopic;
  closed = false;
  failWith: Error | null = null;
  constructor(topic: FakeTopic, start: Map<number, number>) {
    this.#topic = topic;
    this.start = start;
    this.#position = new Map(start);
  }
  async take(waitMs: number, maxBytes: number): Promise<ConsumedMessage[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (this.closed) return [];
      if (this.failWith) throw this.failWith;
      const out: ConsumedMessage[] = [];
      for (const [p, at] of this.#position) {
        const log = this.#topic.logs[p] as ConsumedMessage[];
        let next = at;
        while (next < log.length && out.length < maxBytes / 3) out.push(log[next++] as ConsumedMessage);
        this.#position.set(p, next);
      }
      if (out.length > 0) return out;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.#topic.wait(left);
    }
  }
  async ends(): Promise<Map<number, number>> {
    return new Map([...this.start.keys()].map((p) => [p, (this.#topic.logs[p] as ConsumedMessage[]).length]));
  }
  unread(messages: ConsumedMessage[]): void {
    for (const m of [...messages].reverse()) this.#position.set(m.partition, m.offset);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.#topic.wake();
  }
}

interface Event {
  id: string;
  value: string;
}

const eventsOf = (text: string): Event[] =>
  text
    .split("\n\n")
    .filter((e) => e.startsWith("id: "))
    .map((e) => {
      const [idLine, dataLine] = e.split("\n");
      const data = JSON.parse((dataLine as string).slice(6)) as { value: string };
      return { id: (idLine as string).slice(4), value: Buffer.from(data.value, "base64").toString() };
    });

/** A reader of `partitions` from the end, as a live stream's feed opens one. */
const openLive = (topic: FakeTopic, partitions: number[]) =>
  topic.open({ topic: TOPIC, partitions, from: { kind: "latest" }, resume: new Map(), clientId: "x" });

const textOf = (chunks: Chunk[]) => chunks.map((c) => decoder.decode(c.bytes)).join("");

const feedOptions = {
  topic: TOPIC,
  format: "binary" as const,
  schemas: null,
  chunkMaxBytes: 400,
  subscriberMaxBytes: 800,
};

/** Takes from a subscription until `count` events came (or a take came back empty). */
async function takeEvents(s: Subscription, count: number): Promise<{ events: Event[]; chunks: Chunk[] }> {
  const chunks: Chunk[] = [];
  let n = 0;
  while (n < count) {
    const got = await s.take(500, 1 << 20);
    if (got.length === 0) break;
    chunks.push(...got);
    n += got.reduce((a, c) => a + c.events, 0);
  }
  return { events: eventsOf(textOf(chunks)), chunks };
}

const until = async (what: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("topic feed", () => {
  it("renders each record once and hands the same bytes, in order, to every subscriber", async () => {
    const topic = new FakeTopic(2);
    const reader = await openLive(topic, [0, 1]);
    const feed = new TopicFeed(reader as FeedReader, feedOptions);
    const a = feed.subscribe() as Subscription;
    const b = feed.subscribe() as Subscription;
    topic.append(0, 3);
    topic.append(1, 2);
    const [ra, rb] = await Promise.all([takeEvents(a, 5), takeEvents(b, 5)]);
    expect(ra.events.map((e) => e.value).sort()).toEqual(["0-0", "0-1", "0-2", "1-0", "1-1"]);
    // One rendering: the very same chunk objects went to both.
    expect(rb.chunks).toEqual(ra.chunks);
    expect(rb.chunks.every((c, i) => c === ra.chunks[i])).toBe(true);
    // Each id is the whole cursor after its event.
    expect(ra.events.at(-1)?.id).toBe("t:0:3,t:1:2");
    expect(feed.position(0)).toBe(3);

    // A late subscriber starts at the feed's position, with the same ids as the others from there.
    const late = feed.subscribe() as Subscription;
    topic.append(1);
    const [rl, ra2] = await Promise.all([takeEvents(late, 1), takeEvents(a, 1)]);
    expect(rl.events).toEqual([{ id: "t:0:3,t:1:3", value: "1-2" }]);
    expect(ra2.events).toEqual(rl.events);

    // One leaving changes nothing for the rest; the last one out closes the feed and its reader.
    await a.unsubscribe();
    topic.append(0);
    expect((await takeEvents(b, 2)).events.map((e) => e.value)).toEqual(["1-2", "0-3"]);
    expect(feed.closed).toBe(false);
    await b.unsubscribe();
    expect(feed.closed).toBe(false);
    await late.unsubscribe();
    expect(feed.closed).toBe(true);
    expect(reader.closed).toBe(true);
    expect(feed.subscribe()).toBeNull();
  });

  it("lets a subscriber that falls past its cap leave at the position after what it holds", async () => {
    const topic = new FakeTopic(1);
    const reader = await openLive(topic, [0]);
    const feed = new TopicFeed(reader, { ...feedOptions, chunkMaxBytes: 100, subscriberMaxBytes: 300 });
    const fast = feed.subscribe() as Subscription;
    const slow = feed.subscribe() as Subscription;
    const seen: Event[] = [];
    const reading = (async () => {
      while (seen.length < 40) {
        const got = await fast.take(500, 1 << 20);
        if (got.length === 0) break;
        seen.push(...eventsOf(textOf(got)));
      }
    })();
    for (let i = 0; i < 40; i++) {
      topic.append(0);
      await new Promise((r) => setTimeout(r, 1));
    }
    await reading;
    // The one that reads got everything, in order, though the other took nothing.
    expect(seen.map((e) => e.value)).toEqual(Array.from({ length: 40 }, (_, i) => `0-${i}`));
    const departure = slow.departure;
    expect(departure?.kind).toBe("behind");
    expect(slow.queuedBytes).toBeLessThanOrEqual(300);
    // What it holds is handed out first, and ends right before where it resumes.
    const held = (await takeEvents(slow, 100)).events;
    const resume = (departure as { resume: Map<number, number> }).resume;
    expect(held.map((e) => e.value)).toEqual(Array.from({ length: resume.get(0) as number }, (_, i) => `0-${i}`));
    expect(held.at(-1)?.id).toBe(`t:0:${resume.get(0)}`);
    expect(await slow.take(0, 1000)).toEqual([]);
    await fast.unsubscribe();
    expect(feed.closed).toBe(true);
  });

  it("ends every subscriber with the reader's failure", async () => {
    const topic = new FakeTopic(1);
    const reader = await openLive(topic, [0]);
    let closed = 0;
    const feed = new TopicFeed(reader, { ...feedOptions, onClosed: () => closed++ });
    const a = feed.subscribe() as Subscription;
    const b = feed.subscribe() as Subscription;
    reader.failWith = new Error("broker gone");
    topic.append(0);
    await until(() => feed.closed);
    for (const s of [a, b]) expect(s.departure).toMatchObject({ kind: "failed", error: reader.failWith });
    expect(closed).toBe(1);
    expect(reader.closed).toBe(true);
  });
});

/** Pumps a source as an EventStream does, collecting what it writes. */
async function pumpUntil(source: TopicStreamSource, count: number, out: Event[], ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  const write: StreamWrite = (chunk) => {
    out.push(...eventsOf(typeof chunk === "string" ? chunk : decoder.decode(chunk)));
    return true;
  };
  while (out.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${out.length} of ${count} events`);
    await source.pump(50, 120, write);
  }
}

/** Every partition from offset 0 without a gap or a repeat, each id the cursor after its event. */
function expectWhole(events: Event[], partitions: number): number[] {
  const next = Array.from({ length: partitions }, () => 0);
  for (const e of events) {
    const [p, o] = e.value.split("-").map(Number) as [number, number];
    expect(o).toBe(next[p]);
    next[p] = o + 1;
    expect(e.id).toBe(next.map((offset, partition) => `t:${partition}:${offset}`).join(","));
  }
  return next;
}

const settings = parseConfig({ "bootstrap.servers": "unused:9092" }).stream;

function setUp(partitions = 2) {
  const topic = new FakeTopic(partitions);
  const metrics = createMetrics("test");
  const feeds = createTopicFeeds({
    nodeId: "n",
    settings: { ...settings, batchMaxBytes: 1024 },
    metrics,
    openReader: topic.open,
  });
  const gauge = async () =>
    Object.fromEntries((await metrics.sseTopicConsumers.get()).values.map((v) => [v.labels.kind, v.value]));
  const request = (over: Partial<Parameters<typeof feeds.open>[0]> = {}) => ({
    topic: TOPIC,
    partitions: Array.from({ length: partitions }, (_, p) => p),
    from: { kind: "latest" as const },
    resume: new Map<number, number>(),
    format: "binary" as const,
    ...over,
  });
  return { topic, feeds, gauge, request };
}

describe("topic feeds", () => {
  it("share one reader among live streams, also opened at once, and close it with the last", async () => {
    const { topic, feeds, gauge, request } = setUp();
    const [a, b] = await Promise.all([feeds.open(request()), feeds.open(request())]);
    const c = await feeds.open(request({ format: "string" }));
    expect([a.shared, b.shared, c.shared]).toEqual([true, true, true]);
    expect(topic.readers).toHaveLength(2);
    expect(await gauge()).toEqual({ shared: 2, own: 0 });
    topic.append(0, 2);
    topic.append(1);
    const ea: Event[] = [];
    const eb: Event[] = [];
    await Promise.all([pumpUntil(a, 3, ea), pumpUntil(b, 3, eb)]);
    expect(eb).toEqual(ea);
    await a.close();
    await c.close();
    expect(await gauge()).toEqual({ shared: 1, own: 0 });
    await b.close();
    expect(await gauge()).toEqual({ shared: 0, own: 0 });
    expect(topic.open_readers).toBe(0);
    expect(feeds.consumers).toBe(0);
  });

  it("moves a stream that falls behind to its own reader and back once it caught up: no gap, no repeat", async () => {
    const { topic, feeds, gauge, request } = setUp();
    const fast = await feeds.open(request());
    const slow = await feeds.open(request());
    const fastEvents: Event[] = [];
    const fastReading = pumpUntil(fast, 400, fastEvents, 10_000);
    for (let i = 0; i < 200; i++) {
      topic.append(i % 2);
      topic.append((i + 1) % 2);
      await new Promise((r) => setImmediate(r));
    }
    await fastReading;
    // The slow stream took nothing: it left the feed (4 batches of 1 KiB at most were waiting).
    const slowEvents: Event[] = [];
    await pumpUntil(slow, 400, slowEvents, 10_000);
    expect(topic.readers).toHaveLength(2);
    // Its own reader interleaves the partitions its own way; each partition is whole and in order,
    // and every id is the cursor after its event.
    const cursor = expectWhole(slowEvents, 2);
    expect(cursor).toEqual([200, 200]);
    expectWhole(fastEvents, 2);
    // Caught up: its last write found it at the feed's position, and it rejoined.
    expect(slow.shared).toBe(true);
    expect(await gauge()).toEqual({ shared: 1, own: 0 });
    topic.append(0);
    topic.append(1);
    await Promise.all([pumpUntil(fast, 402, fastEvents), pumpUntil(slow, 402, slowEvents)]);
    expect(slowEvents.slice(400)).toEqual(fastEvents.slice(400));
    expectWhole(slowEvents, 2);
    await Promise.all([fast.close(), slow.close()]);
    expect(topic.open_readers).toBe(0);
  });

  it("gives a stream from the beginning its own reader, which joins the feed once it reaches it", async () => {
    const { topic, feeds, gauge, request } = setUp(1);
    topic.append(0, 5);
    const live = await feeds.open(request());
    const replay = await feeds.open(request({ from: { kind: "earliest" } }));
    expect(replay.shared).toBe(false);
    expect(await gauge()).toEqual({ shared: 1, own: 1 });
    const liveEvents: Event[] = [];
    const replayEvents: Event[] = [];
    await pumpUntil(replay, 5, replayEvents);
    topic.append(0);
    await Promise.all([pumpUntil(live, 1, liveEvents), pumpUntil(replay, 6, replayEvents)]);
    expect(replayEvents.map((e) => e.id)).toEqual(Array.from({ length: 6 }, (_, i) => `t:0:${i + 1}`));
    await until(() => replay.shared);
    expect(await gauge()).toEqual({ shared: 1, own: 0 });

    // A resume at the feed's position joins at once; one elsewhere reads on its own.
    const at = await feeds.open(request({ resume: new Map([[0, 6]]) }));
    const before = await feeds.open(request({ resume: new Map([[0, 2]]) }));
    expect([at.shared, before.shared]).toEqual([true, false]);
    await Promise.all([live.close(), replay.close(), at.close(), before.close()]);
    expect(await gauge()).toEqual({ shared: 0, own: 0 });
  });

  it("turns the consumer of a stream that caught up into the feed when there is none; others join it", async () => {
    const { topic, feeds, gauge, request } = setUp(1);
    topic.append(0, 1500);
    // A reconnect far behind, with no feed anywhere: it reads on its own.
    const first = await feeds.open(request({ resume: new Map([[0, 200]]) }));
    expect(first.shared).toBe(false);
    const a: Event[] = [];
    await pumpUntil(first, 1300, a);
    expect(a.map((e) => e.value)).toEqual(Array.from({ length: 1300 }, (_, i) => `0-${200 + i}`));
    // Caught up: within a second its consumer becomes the feed, at its cursor.
    const write: StreamWrite = () => true;
    const deadline = Date.now() + 3000;
    while (!first.shared && Date.now() < deadline) await first.pump(50, 1024, write);
    expect(first.shared).toBe(true);
    expect(await gauge()).toEqual({ shared: 1, own: 0 });
    expect(topic.readers).toHaveLength(1);
    // Another reconnect at the same place joins at once, and so does a live stream.
    const again = await feeds.open(request({ resume: new Map([[0, 1500]]) }));
    const live = await feeds.open(request());
    expect([again.shared, live.shared]).toEqual([true, true]);
    topic.append(0, 2);
    const b: Event[] = [];
    const c: Event[] = [];
    await Promise.all([pumpUntil(first, 1302, a), pumpUntil(again, 2, b), pumpUntil(live, 2, c)]);
    expect(a.slice(1300)).toEqual([
      { id: "t:0:1501", value: "0-1500" },
      { id: "t:0:1502", value: "0-1501" },
    ]);
    expect(b).toEqual(a.slice(1300));
    expect(c).toEqual(a.slice(1300));
    expect(topic.readers).toHaveLength(1);
    await Promise.all([first.close(), again.close(), live.close()]);
    expect(await gauge()).toEqual({ shared: 0, own: 0 });
    expect(topic.open_readers).toBe(0);
  });

  it("closes every reader on shutdown and refuses new streams after", async () => {
    const { topic, feeds, request } = setUp();
    await feeds.open(request());
    await feeds.open(request({ from: { kind: "earliest" } }));
    await feeds.close();
    expect(topic.open_readers).toBe(0);
    await expect(feeds.open(request())).rejects.toMatchObject({ status: 503 });
  });
});
