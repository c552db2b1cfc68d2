/**
 * Reading ahead of a client that reads a backlog in a loop, and pausing an instance nobody reads:
 * records still come out once and in order, a seek drops what was taken ahead, and a paused
 * instance goes on where it stopped. A node in this process (short idle pause) serves them, so
 * its /metrics show which of the two happened.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/index.ts";
import {
  type ConsumerRef,
  createConsumer,
  instanceCall,
  metric,
  produceKeyedByOffset,
  readRecords,
} from "./consumer-helpers.ts";
import { call, createTopic, inProcessGateway, sleep, unique, V2_BINARY } from "./helpers.ts";

const RECORDS = 4000;
const VALUE = Buffer.alloc(1024, 0x62).toString("base64");
const IDLE_PAUSE_MS = 500;

let gateway: Gateway;
let url: string;

beforeAll(async () => {
  ({ gateway, url } = await inProcessGateway("ahead", { "consumer.idle.pause.ms": String(IDLE_PAUSE_MS) }));
});

afterAll(async () => {
  await gateway?.close();
});

/** A one-partition topic of RECORDS records, each keyed by its own offset. */
async function backlog(): Promise<string> {
  const topic = await createTopic(unique("ahead"), 1);
  await produceKeyedByOffset(url, topic, RECORDS, VALUE);
  return topic;
}

/** Runs `use` with a consumer instance assigned to the topic's partition, deleted afterwards. */
async function withConsumer(topic: string, use: (consumer: ConsumerRef) => Promise<void>): Promise<void> {
  const consumer = await createConsumer(url, unique("g"), "c1", { "auto.commit.enable": "false" });
  try {
    const res = await instanceCall(consumer, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] });
    expect(res.status, res.text).toBe(204);
    await use(consumer);
  } finally {
    await instanceCall(consumer, "DELETE", "");
  }
}

const paused = () => metric(url, "wharf_consumer_instances_paused");

/** Waits until the node reports `count` paused instances (or ten seconds passed). */
async function pausedReaches(count: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  while ((await paused()) !== count && Date.now() < deadline) await sleep(100);
  return paused();
}

type ReadRecord = Awaited<ReturnType<typeof readRecords>>[number];

/** Offsets of the records read, checking that each record is the one its offset names. */
function offsetsOf(records: ReadRecord[]): number[] {
  return records.map((r) => {
    expect(Buffer.from(r.key as string, "base64").toString()).toBe(String(r.offset));
    expect(r.value).toBe(VALUE);
    return r.offset;
  });
}

async function readThrough(consumer: ConsumerRef, last: number, maxBytes: number): Promise<number[]> {
  const offsets: number[] = [];
  for (let i = 0; (offsets.at(-1) ?? -1) < last && i < 200; i++) {
    offsets.push(...offsetsOf(await readRecords(consumer, 2000, undefined, maxBytes)));
  }
  return offsets;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("reading ahead of a client", () => {
  it("hands out what it took ahead once and in order, and a seek drops it", async () => {
    const topic = await backlog();
    await withConsumer(topic, async (consumer) => {
      const before = await metric(url, "wharf_consumer_read_ahead_records_total");
      // Answers of up to 1 MiB from a backlog: from the second that found records waiting on,
      // the instance reads ahead of the next.
      const first = await readThrough(consumer, 2499, 1024 * 1024);
      await sleep(200);
      expect(await metric(url, "wharf_consumer_read_ahead_records_total")).toBeGreaterThan(before);
      expect(first).toEqual(range(0, first.length));

      // The instance holds records past the last answer; the seek must drop them.
      const seek = await instanceCall(consumer, "POST", "/positions", {
        offsets: [{ topic, partition: 0, offset: 700 }],
      });
      expect(seek.status, seek.text).toBe(204);
      expect(await readThrough(consumer, RECORDS - 1, 1024 * 1024)).toEqual(range(700, RECORDS));
    });
  });
});

describe("an instance nobody reads", () => {
  it("stops fetching after consumer.idle.pause.ms and goes on where it stopped, taken-ahead records first", async () => {
    const topic = await backlog();
    const pausedBefore = await paused();
    await withConsumer(topic, async (consumer) => {
      const before = await metric(url, "wharf_consumer_read_ahead_records_total");
      const head = await readThrough(consumer, 2499, 1024 * 1024);
      expect(head).toEqual(range(0, head.length));
      // Nobody reads now: the instance pauses its partition (librdkafka drops its prefetch).
      expect(await pausedReaches(pausedBefore + 1)).toBe(pausedBefore + 1);
      expect(await metric(url, "wharf_consumer_read_ahead_records_total")).toBeGreaterThan(before);

      // What the instance took ahead comes first, then librdkafka resumes after it.
      const rest = await readThrough(consumer, RECORDS - 1, 256 * 1024);
      expect([...head, ...rest]).toEqual(range(0, RECORDS));
      expect(await paused()).toBe(pausedBefore);
    });
  });

  it("a seek while paused takes effect when reading resumes", async () => {
    const topic = await backlog();
    const pausedBefore = await paused();
    await withConsumer(topic, async (consumer) => {
      const head = offsetsOf(await readRecords(consumer, 2000, undefined, 64 * 1024));
      expect(head[0]).toBe(0);
      expect(await pausedReaches(pausedBefore + 1)).toBe(pausedBefore + 1);

      const seek = await instanceCall(consumer, "POST", "/positions", {
        offsets: [{ topic, partition: 0, offset: 3000 }],
      });
      expect(seek.status, seek.text).toBe(204);
      await sleep(IDLE_PAUSE_MS * 2);
      expect(await readThrough(consumer, RECORDS - 1, 1024 * 1024)).toEqual(range(3000, RECORDS));
    });
  });

  it("is not paused again after a resume until a read hands out records", async () => {
    const topic = await backlog();
    const pausedBefore = await paused();
    await withConsumer(topic, async (consumer) => {
      expect(await readThrough(consumer, RECORDS - 1, 4 * 1024 * 1024)).toEqual(range(0, RECORDS));
      expect(await pausedReaches(pausedBefore + 1)).toBe(pausedBefore + 1);
      // A read that resumes and finds nothing (a client polling with a timeout shorter than the
      // fetch a resume starts): pausing again would drop what that fetch brings, every time.
      expect(await readRecords(consumer, 0)).toEqual([]);
      await sleep(IDLE_PAUSE_MS * 3);
      expect(await paused()).toBe(pausedBefore);
      const more = await call("POST", `${url}/topics/${topic}`, {
        headers: { "content-type": V2_BINARY },
        body: {
          records: [RECORDS, RECORDS + 1].map((n) => ({
            key: Buffer.from(String(n)).toString("base64"),
            value: VALUE,
          })),
        },
      });
      expect(more.status, more.text).toBe(200);
      expect(await readThrough(consumer, RECORDS + 1, 1024 * 1024)).toEqual([RECORDS, RECORDS + 1]);
      // Records handed out: an idle instance is paused again.
      expect(await pausedReaches(pausedBefore + 1)).toBe(pausedBefore + 1);
    });
  });
});
