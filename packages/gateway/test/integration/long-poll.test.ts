/**
 * GET records is a long-poll that answers when data arrives: with no fetch.min.bytes as soon as
 * any record is there, with fetch.min.bytes once that many bytes arrived, and otherwise at its
 * timeout. Order is asserted, not tight timing: each read races a timer of its own timeout.
 */
import { describe, expect, it } from "vitest";
import { type ConsumerRef, createConsumer, instanceCall } from "./consumer-helpers.ts";
import { call, createTopic, lbUrl, sleep, unique, V2_JSON_FORMAT } from "./helpers.ts";

const TIMEOUT_MS = 10_000;

async function produce(topic: string, value: unknown) {
  const res = await call("POST", `${lbUrl()}/topics/${topic}`, {
    headers: { "content-type": V2_JSON_FORMAT },
    body: { records: [{ value }] },
  });
  expect(res.status, res.text).toBe(200);
}

/** Joins the group: short reads until the instance has its partitions (nothing is produced yet). */
async function joined(consumer: ConsumerRef) {
  for (let i = 0; i < 120; i++) {
    const read = await instanceCall(consumer, "GET", "/records?timeout=200", undefined, { accept: V2_JSON_FORMAT });
    expect(read.json).toEqual([]);
    const assigned = await instanceCall(consumer, "GET", "/assignments");
    if (assigned.json.partitions.length > 0) return;
  }
  throw new Error("the consumer never got its partitions");
}

/** Starts a read with the long timeout; `log` gets "read" the moment it answers. */
function longRead(consumer: ConsumerRef, log: string[]) {
  const read = instanceCall(consumer, "GET", `/records?timeout=${TIMEOUT_MS}`, undefined, { accept: V2_JSON_FORMAT });
  void read.then(() => log.push("read"));
  const timer = sleep(TIMEOUT_MS).then(() => "timer" as const);
  return { read, first: Promise.race([read.then(() => "read" as const), timer]) };
}

describe("long-poll records", () => {
  it("answers as soon as a record arrives, before its timeout", async () => {
    const topic = await createTopic(unique("long-poll"), 1);
    const consumer = await createConsumer(lbUrl(), unique("g"), "c1", {
      format: "json",
      "consumer.request.timeout.ms": TIMEOUT_MS,
    });
    expect((await instanceCall(consumer, "POST", "/subscription", { topics: [topic] })).status).toBe(204);
    await joined(consumer);

    const log: string[] = [];
    const { read, first } = longRead(consumer, log);
    await sleep(1000);
    expect(log).toEqual([]);
    log.push("produce");
    await produce(topic, { n: 1 });
    expect(await first).toBe("read");
    expect(log[0]).toBe("produce");
    const res = await read;
    expect(res.status).toBe(200);
    expect(res.json.map((r: { value: unknown }) => r.value)).toEqual([{ n: 1 }]);
    await instanceCall(consumer, "DELETE", "");
  });

  it("with fetch.min.bytes waits until that many bytes arrived, then answers before its timeout", async () => {
    const topic = await createTopic(unique("long-poll-min"), 1);
    const consumer = await createConsumer(lbUrl(), unique("g"), "c1", {
      format: "json",
      "consumer.request.timeout.ms": TIMEOUT_MS,
      "fetch.min.bytes": 3000,
    });
    expect((await instanceCall(consumer, "POST", "/subscription", { topics: [topic] })).status).toBe(204);
    await joined(consumer);

    // Each value is a 1000-character JSON string: 1002 bytes. Two are not enough, three are.
    const value = (i: number) => String(i).repeat(1000);
    const log: string[] = [];
    const { read, first } = longRead(consumer, log);
    for (const i of [1, 2]) {
      await produce(topic, value(i));
      await sleep(800);
    }
    expect(log).toEqual([]);
    log.push("third");
    await produce(topic, value(3));
    expect(await first).toBe("read");
    expect(log).toEqual(["third", "read"]);
    const res = await read;
    expect(res.json.map((r: { value: string }) => r.value)).toEqual([value(1), value(2), value(3)]);
    await instanceCall(consumer, "DELETE", "");
  });
});
