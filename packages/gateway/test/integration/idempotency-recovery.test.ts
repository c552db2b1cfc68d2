/**
 * Idempotency-Key retries after a gateway died mid-request, through the real stack. The dead
 * gateway is simulated by planting what it leaves behind: some of the request's records in Kafka,
 * written by a plain producer with the claim header, and its claim in Redis, lapsed. The retry,
 * through a live gateway, must write only the missing records and answer all of them.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { RestError } from "../../src/errors.ts";
import { fingerprint, scopedKey } from "../../src/http/idempotency/key.ts";
import { CLAIM_HEADER } from "../../src/http/idempotency/record-header.ts";
import { createRecovery } from "../../src/http/idempotency/recovery.ts";
import { ScanLimitError, scanTopic } from "../../src/kafka/topic-scan.ts";
import { gatewayUrl, readTopic, stack, unique, V2_BINARY } from "./helpers.ts";
import { b64, CLUSTER, createTopic, expectNothingWritten, produceV2, produceV3 } from "./produce-helpers.ts";
import { kafkaProducer } from "./sse-helpers.ts";

const replayed = (res: { headers: Record<string, unknown> }) => res.headers["idempotent-replayed"] === "true";

interface KeyedRequest {
  key: string;
  /** Path and query, as the fingerprint takes them. */
  target: string;
  contentType: string;
  body: string;
}

let redis: Redis;
let producer: Awaited<ReturnType<typeof kafkaProducer>>;
beforeAll(async () => {
  redis = new Redis(stack().redis as string, { maxRetriesPerRequest: 1 });
  producer = await kafkaProducer();
});
afterAll(async () => {
  await producer?.close();
  redis?.disconnect();
});

/**
 * What a gateway SIGKILLed mid-request leaves in Redis: its pending claim (store-redis.ts's
 * format), with a lease that has lapsed. Returns the claim id its records carry.
 */
async function plantOrphanedClaim(request: KeyedRequest): Promise<string> {
  const id = randomUUID();
  const print = fingerprint({
    method: "POST",
    target: request.target,
    contentType: request.contentType,
    body: Buffer.from(request.body),
  });
  const claimedAt = Date.now() - 15_000;
  await redis.set(`wharf:idem:${scopedKey(null, request.key)}`, `P|${id}|${claimedAt + 10_000}|${claimedAt}||${print}`);
  await redis.pexpire(`wharf:idem:${scopedKey(null, request.key)}`, 60_000);
  return id;
}

/** Records the dead gateway had written: each with the claim header naming its index. */
async function plantRecords(topic: string, records: Array<{ value: string; header?: string }>): Promise<void> {
  for (const r of records) {
    producer.send(topic, 0, r.value, { headers: r.header ? [{ [CLAIM_HEADER]: r.header }] : [] });
  }
  await producer.flush();
}

const v2Request = (topic: string, values: string[]): KeyedRequest => ({
  key: randomUUID(),
  target: `/topics/${topic}`,
  contentType: V2_BINARY,
  body: JSON.stringify({ records: values.map((v) => ({ value: b64(v) })) }),
});

const sendV2 = (topic: string, request: KeyedRequest, node: number) =>
  produceV2(topic, request.body, { base: gatewayUrl(node), headers: { "idempotency-key": `"${request.key}"` } });

const v3Request = (topic: string, body: unknown, batch: boolean): KeyedRequest => ({
  key: randomUUID(),
  target: `/v3/clusters/${CLUSTER}/topics/${topic}/${batch ? "records:batch" : "records"}`,
  contentType: "application/json",
  body: JSON.stringify(body),
});

const sendV3 = (topic: string, request: KeyedRequest, node: number, batch: boolean) =>
  produceV3(topic, request.body, { batch, base: gatewayUrl(node), headers: { "idempotency-key": `"${request.key}"` } });

/** Each value of the topic's one partition, in offset order. */
const values = async (topic: string, count: number) =>
  (await readTopic(topic, count, 10_000)).map((r) => r.value?.toString());

describe("Idempotency-Key retry after the gateway died mid-request", () => {
  it("v2: answers the planted records' offsets, writes only the missing one, replays after", async () => {
    const topic = await createTopic(unique("recover-v2"), 1);
    const request = v2Request(topic, ["a", "b", "c"]);
    const claim = await plantOrphanedClaim(request);
    // Between them, a record of another request: the scan must not take it for one of these.
    await plantRecords(topic, [
      { value: "a", header: `${claim}/0` },
      { value: "other", header: `${randomUUID()}/1` },
      { value: "c", header: `${claim}/2` },
    ]);

    const retry = await sendV2(topic, request, 1);
    expect(retry.status, retry.text).toBe(200);
    expect(replayed(retry)).toBe(false);
    expect(retry.json.offsets).toEqual([
      { partition: 0, offset: 0, error_code: null, error: null },
      { partition: 0, offset: 3, error_code: null, error: null },
      { partition: 0, offset: 2, error_code: null, error: null },
    ]);
    const records = await readTopic(topic, 4, 10_000);
    expect(records.map((r) => r.value?.toString())).toEqual(["a", "other", "c", "b"]);
    // The written record names the claim that wrote it, not the dead one.
    const written = records[3]?.headers.find((h) => h[CLAIM_HEADER] !== undefined)?.[CLAIM_HEADER]?.toString();
    expect(written).toMatch(/^[0-9a-f-]{36}\/1$/);
    expect(written?.startsWith(claim)).toBe(false);

    const again = await sendV2(topic, request, 2);
    expect(replayed(again)).toBe(true);
    expect(again.text).toBe(retry.text);
    await expectNothingWritten(topic, 4, gatewayUrl(0));
  });

  it("v2: writes everything once when the dead gateway had written nothing", async () => {
    const topic = await createTopic(unique("recover-none"), 1);
    const request = v2Request(topic, ["x", "y"]);
    await plantOrphanedClaim(request);
    const retry = await sendV2(topic, request, 0);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.json.offsets.map((o: { offset: number }) => o.offset)).toEqual([0, 1]);
    expect(await values(topic, 2)).toEqual(["x", "y"]);
    const again = await sendV2(topic, request, 1);
    expect(replayed(again)).toBe(true);
    expect(again.text).toBe(retry.text);
    await expectNothingWritten(topic, 2, gatewayUrl(2));
  });

  it("v3 single record: the planted record's report, nothing written", async () => {
    const topic = await createTopic(unique("recover-v3"), 1);
    const request = v3Request(topic, { value: { type: "STRING", data: "single" } }, false);
    const claim = await plantOrphanedClaim(request);
    await plantRecords(topic, [{ value: "single", header: `${claim}/0` }]);
    const planted = (await readTopic(topic, 1, 10_000))[0];

    const retry = await sendV3(topic, request, 2, false);
    expect(retry.status, retry.text).toBe(200);
    const report = JSON.parse(retry.text.trim());
    expect(report).toMatchObject({
      error_code: 200,
      topic_name: topic,
      partition_id: 0,
      offset: 0,
      value: { type: "STRING", size: 6 },
    });
    expect(Date.parse(report.timestamp)).toBe(planted?.timestamp);
    const again = await sendV3(topic, request, 0, false);
    expect(replayed(again)).toBe(true);
    expect(again.text).toBe(retry.text);
    await expectNothingWritten(topic, 1, gatewayUrl(1));
  });

  it("v3 records:batch: the planted entry at its offset, the others written once", async () => {
    const topic = await createTopic(unique("recover-batch"), 1);
    const entries = ["e0", "e1", "e2"].map((id) => ({ id, value: { type: "STRING", data: `v-${id}` } }));
    const request = v3Request(topic, { entries }, true);
    const claim = await plantOrphanedClaim(request);
    await plantRecords(topic, [{ value: "v-e1", header: `${claim}/1` }]);

    const retry = await sendV3(topic, request, 0, true);
    expect(retry.status, retry.text).toBe(207);
    expect(retry.json.failures).toEqual([]);
    const offsets = Object.fromEntries(
      retry.json.successes.map((s: { id: string; offset: number }) => [s.id, s.offset]),
    );
    expect(offsets.e1).toBe(0);
    expect([offsets.e0, offsets.e2].sort()).toEqual([1, 2]);
    const topicValues = await values(topic, 3);
    expect([...topicValues].sort()).toEqual(["v-e0", "v-e1", "v-e2"]);
    const again = await sendV3(topic, request, 1, true);
    expect(replayed(again)).toBe(true);
    expect(again.text).toBe(retry.text);
    await expectNothingWritten(topic, 3, gatewayUrl(2));
  });
});

describe("the look into Kafka is bounded", () => {
  const config = () => parseConfig({ "bootstrap.servers": stack().kafka });

  it("reads a partition from a timestamp to its end, and refuses past its record limit", async () => {
    const topic = await createTopic(unique("scan"), 1);
    await plantRecords(
      topic,
      ["r0", "r1", "r2", "r3", "r4"].map((value) => ({ value })),
    );
    const range = { topic, partitions: [0], since: Date.now() - 60_000, clientId: unique("scan") };
    const seen: string[] = [];
    await scanTopic(config(), range, { maxRecords: 5, timeoutMs: 10_000 }, (m) => seen.push(String(m.value)));
    expect(seen).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    await expect(scanTopic(config(), range, { maxRecords: 4, timeoutMs: 10_000 }, () => {})).rejects.toBeInstanceOf(
      ScanLimitError,
    );
    // From after the last record: nothing to read.
    const later = { ...range, since: Date.now() + 60_000 };
    const none: unknown[] = [];
    await scanTopic(config(), later, { maxRecords: 1, timeoutMs: 10_000 }, (m) => none.push(m));
    expect(none).toEqual([]);
  });

  it("answers a retriable 503 / 50003 from recovery when the limit is hit", async () => {
    const topic = await createTopic(unique("scan-limit"), 1);
    const claim = randomUUID();
    await plantRecords(topic, [
      { value: "a", header: `${claim}/0` },
      { value: "b", header: `${claim}/1` },
    ]);
    const prior = [{ id: claim, claimedAt: Date.now() }];
    const producers = { partitionCount: async () => 1 };
    const found = await createRecovery(config(), producers, {
      maxRecords: 2,
      timeoutMs: 10_000,
      clockSkewMs: 60_000,
    }).find(topic, prior);
    expect([...found.keys()].sort()).toEqual([0, 1]);
    expect(found.get(1)).toMatchObject({ ok: true, partition: 0, offset: 1 });
    const limited = createRecovery(config(), producers, { maxRecords: 1, timeoutMs: 10_000, clockSkewMs: 60_000 }).find(
      topic,
      prior,
    );
    await expect(limited).rejects.toBeInstanceOf(RestError);
    await expect(limited).rejects.toMatchObject({ status: 503, errorCode: 50003 });
  });

  it("starts the look at the claim less idempotency.recovery.clock.skew.ms: older records are not read", async () => {
    const topic = await createTopic(unique("scan-skew"), 1);
    // A busy topic's records from before the claim: with the default skew they fill the limit.
    await plantRecords(
      topic,
      ["old0", "old1", "old2"].map((value) => ({ value })),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const claim = randomUUID();
    const prior = [{ id: claim, claimedAt: Date.now() }];
    await plantRecords(topic, [
      { value: "a", header: `${claim}/0` },
      { value: "b", header: `${claim}/1` },
    ]);
    const producers = { partitionCount: async () => 1 };
    const limits = { maxRecords: 2, timeoutMs: 10_000 };
    const wide = createRecovery(config(), producers, { ...limits, clockSkewMs: 60_000 }).find(topic, prior);
    await expect(wide).rejects.toMatchObject({ status: 503, errorCode: 50003 });
    const narrow = await createRecovery(config(), producers, { ...limits, clockSkewMs: 500 }).find(topic, prior);
    expect(narrow.get(0)).toMatchObject({ ok: true, partition: 0, offset: 3 });
    expect(narrow.get(1)).toMatchObject({ ok: true, partition: 0, offset: 4 });
  });
});
