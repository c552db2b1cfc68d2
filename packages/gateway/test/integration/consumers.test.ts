/**
 * The v2 consumer API through haproxy round-robin over three gateways: every request may land on
 * a node that does not own the instance, so these tests exercise forwarding on almost every call.
 */
import { describe, expect, it } from "vitest";
import { createConsumer, instanceCall, metric, readRecords, readUntil } from "./consumer-helpers.ts";
import { call, createTopic, gatewayUrl, lbUrl, unique, V2, V2_BINARY, V2_JSON_FORMAT } from "./helpers.ts";

async function produceJson(topic: string, values: unknown[], base = gatewayUrl(0)) {
  const res = await call("POST", `${base}/topics/${topic}`, {
    headers: { "content-type": V2_JSON_FORMAT },
    body: { records: values.map((value, i) => ({ key: `k${i}`, value })) },
  });
  expect(res.status, res.text).toBe(200);
  return res.json.offsets as Array<{ partition: number; offset: number }>;
}

describe("v2 consumer lifecycle through the load balancer", () => {
  it("creates, subscribes, reads, commits and deletes without ever seeing 40403", async () => {
    const topic = await createTopic(unique("cons"));
    const group = unique("g");
    const consumer = await createConsumer(lbUrl(), group, "c1", { format: "json" });
    const statuses: number[] = [];

    const sub = await instanceCall(consumer, "POST", "/subscription", { topics: [topic] }, { seen: statuses });
    expect(sub.status, sub.text).toBe(204);
    const got = await instanceCall(consumer, "GET", "/subscription", undefined, { seen: statuses });
    expect(got.json).toEqual({ topics: [topic] });

    const values = Array.from({ length: 30 }, (_, i) => ({ n: i }));
    await produceJson(topic, values, gatewayUrl(1));
    const records = await readUntil(consumer, values.length, 40_000, statuses);
    expect(records.map((r) => (r.value as { n: number }).n).sort((a, b) => a - b)).toEqual(values.map((v) => v.n));
    expect(records.every((r) => r.topic === topic && typeof r.offset === "number")).toBe(true);

    const assignments = await instanceCall(consumer, "GET", "/assignments", undefined, { seen: statuses });
    expect(assignments.json.partitions).toHaveLength(3);

    const commit = await instanceCall(consumer, "POST", "/offsets", undefined, { seen: statuses });
    expect(commit.status).toBe(200);
    expect(commit.json).toEqual([]);
    const partitions = [0, 1, 2].map((partition) => ({ topic, partition }));
    const committed = await instanceCall(consumer, "GET", "/offsets", { partitions }, { seen: statuses });
    const total = (committed.json.offsets as Array<{ offset: number }>).reduce((sum, o) => sum + o.offset, 0);
    expect(total).toBe(values.length);

    const deleted = await instanceCall(consumer, "DELETE", "", undefined, { seen: statuses });
    expect(deleted.status).toBe(204);
    expect(statuses).not.toContain(404);
    const after = await call("GET", `${lbUrl()}/consumers/${group}/instances/c1/records`, {
      headers: { accept: V2_BINARY },
    });
    expect(after.status).toBe(404);
    expect(after.json.error_code).toBe(40403);

    const forwards = await Promise.all([0, 1, 2].map((i) => metric(gatewayUrl(i), "wharf_forwards_total")));
    expect(forwards.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it("commits explicit offsets with the offset+1 convention and seeks to positions", async () => {
    const topic = await createTopic(unique("seek"), 1);
    const consumer = await createConsumer(lbUrl(), unique("g"), "c1", { format: "json" });
    await produceJson(
      topic,
      Array.from({ length: 10 }, (_, i) => i),
    );
    const assign = await instanceCall(consumer, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] });
    expect(assign.status).toBe(204);

    const first = await readUntil(consumer, 10);
    expect(first.map((r) => r.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const commit = await instanceCall(consumer, "POST", "/offsets", { offsets: [{ topic, partition: 0, offset: 4 }] });
    expect(commit.status).toBe(200);
    const committed = await instanceCall(consumer, "GET", "/offsets", { partitions: [{ topic, partition: 0 }] });
    expect(committed.json.offsets).toEqual([{ topic, partition: 0, offset: 5, metadata: "" }]);

    expect(
      (await instanceCall(consumer, "POST", "/positions", { offsets: [{ topic, partition: 0, offset: 7 }] })).status,
    ).toBe(204);
    expect((await readUntil(consumer, 3)).map((r) => r.value)).toEqual([7, 8, 9]);

    const begin = await instanceCall(consumer, "POST", "/positions/beginning", {
      partitions: [{ topic, partition: 0 }],
    });
    expect(begin.status).toBe(204);
    expect((await readUntil(consumer, 10)).map((r) => r.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    expect(
      (await instanceCall(consumer, "POST", "/positions/end", { partitions: [{ topic, partition: 0 }] })).status,
    ).toBe(204);
    // Seeking to the end is lazy (in Kafka's Java client too): a read settles the position first.
    expect(await readRecords(consumer, 1000)).toEqual([]);
    await produceJson(topic, ["late"]);
    expect((await readUntil(consumer, 1)).map((r) => r.value)).toEqual(["late"]);
    await instanceCall(consumer, "DELETE", "");
  });

  it("answers Confluent's error codes", async () => {
    const group = unique("g");
    const consumer = await createConsumer(lbUrl(), group, "c1");
    const topic = await createTopic(unique("err"), 1);

    const duplicate = await call("POST", `${lbUrl()}/consumers/${group}`, {
      headers: { "content-type": V2 },
      body: { name: "c1" },
    });
    expect([duplicate.status, duplicate.json.error_code]).toEqual([409, 40902]);

    const badReset = await call("POST", `${lbUrl()}/consumers/${group}`, {
      headers: { "content-type": V2 },
      body: { name: "c2", "auto.offset.reset": "sideways" },
    });
    expect([badReset.status, badReset.json.error_code]).toEqual([422, 42204]);
    const unknownField = await call("POST", `${lbUrl()}/consumers/${group}`, {
      headers: { "content-type": V2 },
      body: { nmae: "x" },
    });
    expect([unknownField.status, unknownField.json.error_code]).toEqual([422, 422]);
    const badMin = await call("POST", `${lbUrl()}/consumers/${group}`, {
      headers: { "content-type": V2 },
      body: { "fetch.min.bytes": 20000000 },
    });
    expect([badMin.status, badMin.json.error_code]).toEqual([422, 40001]);

    const unknown = await call("GET", `${lbUrl()}/consumers/${group}/instances/nobody/subscription`);
    expect([unknown.status, unknown.json.error_code]).toEqual([404, 40403]);

    const mismatch = await instanceCall(consumer, "GET", "/records", undefined, { accept: V2_JSON_FORMAT });
    expect([mismatch.status, mismatch.json.error_code]).toEqual([406, 40601]);

    expect(
      (await instanceCall(consumer, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] })).status,
    ).toBe(204);
    const conflict = await instanceCall(consumer, "POST", "/subscription", { topics: [topic] });
    expect([conflict.status, conflict.json.error_code]).toEqual([409, 40903]);

    const wrongType = await call("POST", `${lbUrl()}/consumers/${group}/instances/c1/subscription`, {
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    expect([wrongType.status, wrongType.json.error_code]).toEqual([415, 415]);
    const malformed = await call("POST", `${lbUrl()}/consumers/${group}/instances/c1/positions`, {
      headers: { "content-type": V2 },
      body: "{nope",
    });
    expect([malformed.status, malformed.json.error_code]).toEqual([400, 400]);
    const noBody = await call("GET", `${lbUrl()}/consumers/${group}/instances/c1/offsets`);
    expect([noBody.status, noBody.json.error_code]).toEqual([404, 40402]);

    // The instance still works after all of that.
    expect((await readRecords(consumer, 200)).length).toBe(0);
    expect((await instanceCall(consumer, "DELETE", "")).status).toBe(204);
  });

  it("returns timestamps and headers with include_metadata=true", async () => {
    const topic = await createTopic(unique("meta"), 1);
    const consumer = await createConsumer(lbUrl(), unique("g"), "c1");
    await instanceCall(consumer, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] });
    const v3 = await call("POST", `${gatewayUrl(0)}/topics/${topic}`, {
      headers: { "content-type": V2_BINARY },
      body: { records: [{ value: Buffer.from("hello").toString("base64") }] },
    });
    expect(v3.status).toBe(200);
    const deadline = Date.now() + 20_000;
    let records: Array<{ value: string; timestamp: number; headers: unknown[] }> = [];
    while (records.length === 0 && Date.now() < deadline) {
      const res = await instanceCall(consumer, "GET", "/records?include_metadata=true", undefined, {
        accept: V2_BINARY,
      });
      records = res.json;
    }
    expect(records[0]?.value).toBe(Buffer.from("hello").toString("base64"));
    expect(typeof records[0]?.timestamp).toBe("number");
    expect(Math.abs((records[0]?.timestamp as number) - Date.now())).toBeLessThan(60_000);
    expect(records[0]?.headers).toEqual([]);
    await instanceCall(consumer, "DELETE", "");
  });
});

describe("a reader that leaves before its answer", () => {
  /** Starts a long-poll for records and abandons it once the owner has begun waiting. */
  async function abandonRead(base: string, group: string, owner: string): Promise<void> {
    const before = await metric(owner, "wharf_consumer_reads_abandoned_total");
    const leave = new AbortController();
    const read = call("GET", `${base}/consumers/${group}/instances/c1/records?timeout=30000`, {
      headers: { accept: V2_JSON_FORMAT },
      signal: leave.signal,
    }).catch((error: Error) => error);
    await new Promise((r) => setTimeout(r, 500));
    leave.abort();
    expect(await read).toBeInstanceOf(Error);
    // The owner notices (through the forwarding node, when there is one) and ends the read.
    await expect
      .poll(() => metric(owner, "wharf_consumer_reads_abandoned_total"), { timeout: 10_000, interval: 100 })
      .toBe(before + 1);
  }

  /** A json consumer created on `owner` (so owned there), assigned a fresh one-partition topic. */
  async function assignedConsumer(owner: string, config: Record<string, unknown> = {}) {
    const topic = await createTopic(unique("gone"), 1);
    const group = unique("g");
    const consumer = await createConsumer(owner, group, "c1", {
      format: "json",
      "consumer.request.timeout.ms": 30_000,
      ...config,
    });
    await instanceCall(consumer, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] });
    return { topic, group, consumer };
  }

  it("keeps records that arrive after a forwarded reader left for the next read", async () => {
    const owner = gatewayUrl(0);
    const { topic, group, consumer } = await assignedConsumer(owner);

    await abandonRead(gatewayUrl(1), group, owner);
    await produceJson(topic, ["a", "b", "c"]);
    const records = await readUntil({ ...consumer, base: gatewayUrl(1) }, 3, 20_000);
    expect(records.map((r) => r.value)).toEqual(["a", "b", "c"]);
  });

  it("gives back the records a read had collected when its reader leaves", async () => {
    const owner = gatewayUrl(2);
    // fetch.min.bytes far above what is there: the read holds the records and waits for more.
    const { topic, group, consumer } = await assignedConsumer(owner, { "fetch.min.bytes": 1_000_000 });
    await produceJson(topic, [1, 2, 3], owner);

    await abandonRead(owner, group, owner);
    const records = await readRecords(consumer, 1000);
    expect(records.map((r) => [r.offset, r.value])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    // Nothing counts as delivered before the read that answered: a commit of "all consumed" is 3.
    await instanceCall(consumer, "POST", "/offsets");
    const committed = await instanceCall(consumer, "GET", "/offsets", { partitions: [{ topic, partition: 0 }] });
    expect(committed.json.offsets).toEqual([{ topic, partition: 0, offset: 3, metadata: "" }]);
  });
});
