/**
 * librdkafka's "implicitly acked" success without an offset (producer-pool.ts), through a real
 * Kafka. A node in this process is given a test-only hook (GatewayOptions.reviseDeliveryReport,
 * which main.ts never sets) that strips the offset from delivery reports of records Kafka did
 * store: a keyed request must then find each by its claim header and answer it with its real
 * offset; an unkeyed one keeps the retriable 50003. The not-found case reads a real partition.
 */
import { randomUUID } from "node:crypto";
import type Kafka from "@confluentinc/kafka-javascript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { CLAIM_HEADER } from "../../src/http/idempotency/record-header.ts";
import { createRecovery } from "../../src/http/idempotency/recovery.ts";
import type { Gateway } from "../../src/index.ts";
import { createTopic, inProcessGateway, readTopic, stack, unique } from "./helpers.ts";
import { b64, produceV2, produceV3, reportLines } from "./produce-helpers.ts";
import { kafkaProducer } from "./sse-helpers.ts";

let gateway: Gateway;
let url: string;
/** While set, every delivery report reaches the pool without its offset. */
let strip = false;
let producer: Awaited<ReturnType<typeof kafkaProducer>>;

beforeAll(async () => {
  ({ gateway, url } = await inProcessGateway(
    "unconfirmed",
    {},
    { reviseDeliveryReport: (report: Kafka.DeliveryReport) => (strip ? { ...report, offset: -1 } : report) },
  ));
  producer = await kafkaProducer();
});

afterAll(async () => {
  await producer?.close();
  await gateway?.close();
});

const keyed = () => ({ "idempotency-key": `"${randomUUID()}"` });

/** wharf_idempotency_unconfirmed_total{result="found"}: proof the keyed path looked. */
async function foundCount(): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith('wharf_idempotency_unconfirmed_total{result="found"'));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("a keyed record delivered without an offset", () => {
  it("v2: is found in Kafka and answered with its real offset, written once", async () => {
    const topic = await createTopic(unique("unconfirmed-v2"), 1);
    const before = await foundCount();
    strip = true;
    const res = await produceV2(
      topic,
      { records: ["a", "b"].map((v) => ({ value: b64(v) })) },
      {
        base: url,
        headers: keyed(),
      },
    );
    strip = false;
    expect(res.status, res.text).toBe(200);
    expect(res.json.offsets).toEqual([
      { partition: 0, offset: 0, error_code: null, error: null },
      { partition: 0, offset: 1, error_code: null, error: null },
    ]);
    const read = await readTopic(topic, 2);
    expect(read.map((r) => [r.offset, r.value?.toString()])).toEqual([
      [0, "a"],
      [1, "b"],
    ]);
    expect((await foundCount()) - before).toBe(2);
  });

  it("v3 streaming: its report is a success with the real offset", async () => {
    const topic = await createTopic(unique("unconfirmed-v3"), 1);
    strip = true;
    const res = await produceV3(topic, JSON.stringify({ value: { type: "STRING", data: "x" } }), {
      base: url,
      headers: keyed(),
    });
    strip = false;
    expect(res.status, res.text).toBe(200);
    expect(reportLines(res.text)).toMatchObject([{ error_code: 200, partition_id: 0, offset: 0 }]);
  });

  it("unkeyed: stays a retriable 50003 (no header to look for), though Kafka has it", async () => {
    const topic = await createTopic(unique("unconfirmed-unkeyed"), 1);
    strip = true;
    const res = await produceV2(topic, { records: [{ value: b64("u") }] }, { base: url });
    strip = false;
    expect(res.status, res.text).toBe(200);
    expect(res.json.offsets).toMatchObject([{ error_code: 50003 }]);
    expect((await readTopic(topic, 1)).map((r) => r.value?.toString())).toEqual(["u"]);
  });

  it("the look reads the real partition: another index or another claim is not found", async () => {
    const topic = await createTopic(unique("unconfirmed-look"), 1);
    const claim = randomUUID();
    const since = Date.now();
    producer.send(topic, 0, "other", { headers: [{ [CLAIM_HEADER]: `${randomUUID()}/1` }] });
    producer.send(topic, 0, "mine", { headers: [{ [CLAIM_HEADER]: `${claim}/0` }] });
    await producer.flush();
    const config = parseConfig({ "bootstrap.servers": stack().kafka });
    const recovery = createRecovery(
      config,
      { partitionCount: async () => 1 },
      { maxRecords: 100, timeoutMs: 10_000, clockSkewMs: 60_000 },
    );
    const found = await recovery.confirm(
      topic,
      claim,
      [
        { index: 0, partition: 0 },
        { index: 1, partition: 0 },
      ],
      since,
    );
    expect([...found.keys()]).toEqual([0]);
    expect(found.get(0)).toMatchObject({ ok: true, partition: 0, offset: 1 });
    // Partition unknown (-1): every partition is read.
    const any = await recovery.confirm(topic, claim, [{ index: 0, partition: -1 }], since);
    expect(any.get(0)).toMatchObject({ ok: true, offset: 1 });
  });
});
