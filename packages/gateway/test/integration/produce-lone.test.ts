/**
 * A lone record goes to Kafka at once instead of waiting linger.ms for company: a node in this
 * process is given a linger.ms far longer than the test may run, so every acknowledgement below
 * is one that the idle flush sent, and the records must still land in order where acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/index.ts";
import { call, createTopic, inProcessGateway, readTopic, unique, V2_BINARY } from "./helpers.ts";

/** A minute: a record left to linger.ms would outlive the request limit below. */
const LINGER_MS = "60000";
/** Fails the request long before linger.ms would have sent its record. */
const REQUEST_LIMIT_MS = 20_000;

let gateway: Gateway;
let url: string;

beforeAll(async () => {
  ({ gateway, url } = await inProcessGateway("lone", {
    "producer.linger.ms": LINGER_MS,
    // librdkafka refuses a linger.ms that is not below message.timeout.ms.
    "producer.message.timeout.ms": "120000",
  }));
});

afterAll(async () => {
  await gateway?.close();
});

const produce = (topic: string, values: string[]) =>
  call("POST", `${url}/topics/${topic}/partitions/0`, {
    headers: { "content-type": V2_BINARY },
    body: { records: values.map((v) => ({ value: Buffer.from(v).toString("base64") })) },
    signal: AbortSignal.timeout(REQUEST_LIMIT_MS),
  });

describe("a lone produce request", () => {
  it("is acknowledged without waiting linger.ms, one request after another", async () => {
    const topic = await createTopic(unique("lone-serial"), 1);
    const values = Array.from({ length: 40 }, (_, i) => `lone-${i}`);
    const offsets: number[] = [];
    // Each request comes right after the previous answer: the producer is idle every time, or
    // was flushing a moment ago (the case of a record arriving as a flush ends).
    for (const value of values) {
      const res = await produce(topic, [value]);
      expect(res.status, res.text).toBe(200);
      expect(res.json.offsets[0].error).toBeNull();
      offsets.push(res.json.offsets[0].offset);
    }
    expect(offsets).toEqual(values.map((_, i) => i));
    const read = await readTopic(topic, values.length);
    expect(read.map((r) => [r.offset, r.value?.toString()])).toEqual(values.map((v, i) => [i, v]));
  });

  it("sends a lone request of many records at once, and the lone record after it", async () => {
    const topic = await createTopic(unique("lone-many"), 1);
    const many = Array.from({ length: 50 }, (_, i) => `many-${i}`);
    const res = await produce(topic, many);
    expect(res.status, res.text).toBe(200);
    expect(res.json.offsets.map((o: { offset: number; error: string | null }) => [o.offset, o.error])).toEqual(
      many.map((_, i) => [i, null]),
    );
    const after = await produce(topic, ["after"]);
    expect(after.status, after.text).toBe(200);
    expect(after.json.offsets[0].offset).toBe(50);
    const read = await readTopic(topic, 51);
    expect(read.map((r) => r.value?.toString())).toEqual([...many, "after"]);
  });
});
