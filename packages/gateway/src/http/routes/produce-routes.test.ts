/** Route-level checks of v2 and v3 produce against a fake producer pool (no Kafka). */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../config.ts";
import { deliveryError, librdkafka } from "../../kafka/delivery-errors.ts";
import type { DeliveryResult, OutgoingRecord, ProducerPool } from "../../kafka/producer-pool.ts";
import { createErrorHandler } from "../error-handler.ts";
import { produceV2Routes } from "./produce-v2.ts";
import { produceV3Routes } from "./produce-v3.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = { debug() {}, info() {}, warn() {}, error() {} };

interface FakeOptions {
  partitions?: number | null;
  /** Delay of the n-th topic lookup. */
  lookupDelayMs?: (n: number) => number;
  /** Delay and outcome of the n-th record sent (0-based, over the whole test). */
  deliver?: (n: number, record: OutgoingRecord) => { delayMs?: number; result?: DeliveryResult };
}

function setup(options: FakeOptions = {}) {
  const sent: OutgoingRecord[] = [];
  let offset = 0;
  let lookups = 0;
  const pool: ProducerPool = {
    ready: true,
    inflightRecords: 0,
    ping: async () => {},
    nextLane: () => 0,
    async partitionCount() {
      await sleep(options.lookupDelayMs?.(lookups++) ?? 0);
      return options.partitions === undefined ? 3 : options.partitions;
    },
    send(records) {
      return Promise.all(
        records.map(async (record) => {
          const n = sent.push(record) - 1;
          // Kafka assigns offsets in the order records are sent, whenever their reports arrive.
          const assigned = offset++;
          const plan = options.deliver?.(n, record) ?? {};
          await sleep(plan.delayMs ?? 0);
          return plan.result ?? { ok: true, partition: record.partition ?? 0, offset: assigned, timestamp: 1000 };
        }),
      );
    },
    close: async () => {},
  };
  const config = parseConfig({ "bootstrap.servers": "unused:9092" });
  const app = new Hono();
  app.route("/", produceV2Routes({ config, producers: pool }));
  app.route("/", produceV3Routes({ config, producers: pool }));
  // biome-ignore lint/suspicious/noExplicitAny: the logger's shape is irrelevant here
  app.onError(createErrorHandler(silent as any));
  return { app, sent };
}

function chunked(parts: string[], pauseMs = 5): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      const next = parts.shift();
      if (next === undefined) return controller.close();
      await sleep(pauseMs);
      controller.enqueue(encoder.encode(next));
    },
  });
}

const v3 = (app: Hono, body: string | ReadableStream<Uint8Array>) =>
  app.request("/v3/clusters/c1/topics/t/records", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    duplex: "half",
  });

// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
const json = async (res: Response): Promise<any> => res.json();
const lines = (text: string) =>
  text
    .split("\r\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
const str = (data: string) => ({ value: { type: "STRING", data } });

describe("v3 streaming produce", () => {
  it("reports in request order even when later records are acknowledged first", async () => {
    const { app } = setup({ deliver: (n) => ({ delayMs: 40 - n * 10 }) });
    const res = await v3(
      app,
      chunked([JSON.stringify(str("a")), `${JSON.stringify(str("b"))}\r\n`, JSON.stringify(str("c"))]),
    );
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.endsWith("\r\n")).toBe(true);
    expect(lines(text).map((r) => [r.error_code, r.offset])).toEqual([
      [200, 0],
      [200, 1],
      [200, 2],
    ]);
  });

  it("hands records to the producer in the order they were read, even while the topic is looked up", async () => {
    // A slow first lookup: records read meanwhile must not overtake the first one.
    const { app, sent } = setup({ lookupDelayMs: (n) => (n === 0 ? 30 : 0) });
    const body = Array.from({ length: 20 }, (_, i) => JSON.stringify(str(`v${i}`))).join("");
    const res = await v3(app, chunked([body.slice(0, 50), body.slice(50, 51), body.slice(51)], 0));
    expect(lines(await res.text())).toHaveLength(20);
    expect(sent.map((r) => r.value?.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
  });

  it("answers a bad record in-band and goes on with the next", async () => {
    const { app, sent } = setup();
    const body = [
      str("ok-1"),
      { value: { type: "BINARY", data: "not base64!" } },
      { value: { data: "untyped" } },
      { partition_id: 5 },
      str("ok-2"),
    ]
      .map((r) => JSON.stringify(r))
      .join("\r\n");
    const reports = lines(await (await v3(app, body)).text());
    expect(reports).toHaveLength(5);
    expect(reports[0]).toMatchObject({
      error_code: 200,
      cluster_id: "c1",
      topic_name: "t",
      value: { type: "STRING", size: 4 },
    });
    expect(reports[1]).toEqual({
      error_code: 400,
      message: 'Bad Request: data="not base64!" is not a valid base64 string.',
    });
    expect(reports[2]).toEqual({
      error_code: 422,
      message: "Error: 42206 : Payload error. Schema Registry must be configured when using schemas.",
    });
    expect(reports[3]).toEqual({ error_code: 40402, message: "Partition not found." });
    expect(reports[4]).toMatchObject({ error_code: 200 });
    expect(sent.map((r) => r.value?.toString())).toEqual(["ok-1", "ok-2"]);
  });

  it("ends the stream at malformed JSON, after the reports of the records before it", async () => {
    const { app, sent } = setup();
    const res = await v3(app, `${JSON.stringify(str("a"))} {"value": nope} ${JSON.stringify(str("b"))}`);
    expect(res.status).toBe(200);
    const reports = lines(await res.text());
    expect(reports).toHaveLength(2);
    expect(reports[1].error_code).toBe(400);
    expect(reports[1].message).toMatch(/^Bad Request: Error processing JSON: /);
    expect(sent).toHaveLength(1);
  });

  it("answers an empty body with 422 / 42206 before streaming", async () => {
    const { app } = setup();
    for (const body of ["", "  \r\n "]) {
      const res = await v3(app, body);
      expect(res.status).toBe(422);
      expect(await json(res)).toEqual({
        error_code: 42206,
        message: "Payload error. Request body is empty. Data is required.",
      });
    }
  });

  it("reports an unknown topic in-band at once for every record", async () => {
    const { app, sent } = setup({ partitions: null });
    const reports = lines(await (await v3(app, `${JSON.stringify(str("a"))}${JSON.stringify(str("b"))}`)).text());
    expect(reports).toEqual([
      { error_code: 40401, message: "Topic t not found." },
      { error_code: 40401, message: "Topic t not found." },
    ]);
    expect(sent).toHaveLength(0);
  });
});

describe("v3 records:batch", () => {
  const batch = (app: Hono, body: unknown) =>
    app.request("/v3/clusters/c1/topics/t/records:batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("answers 207 with successes and failures, each in request order", async () => {
    const { app } = setup({
      deliver: (n) =>
        n === 1
          ? { result: { ok: false, error: deliveryError({ code: librdkafka.MSG_TIMED_OUT, message: "timed out" }) } }
          : {},
    });
    const res = await batch(app, {
      entries: [
        { id: "a", ...str("1") },
        { id: "b", value: { type: "BINARY", data: 7 } },
        { id: "c", ...str("2") },
        { id: "d", ...str("3") },
      ],
    });
    expect(res.status).toBe(207);
    const body = await json(res);
    expect(body.successes.map((s: { id: string }) => s.id)).toEqual(["a", "d"]);
    expect(body.successes[0]).not.toHaveProperty("error_code");
    expect(body.failures).toEqual([
      { id: "b", error_code: 400, message: "Bad Request: data=7 is not a base64 string." },
      { id: "c", error_code: 50003, message: "timed out" },
    ]);
  });

  it.each([
    [{ entries: [{ id: 1 }] }, "Batch entry identifier is not a valid string."],
    [{ entries: [{ id: "has space" }] }, "Batch entry identifier is not a valid string."],
    [{ entries: [{ id: "x".repeat(81) }] }, "Batch entry identifier is not a valid string."],
    [{ entries: [{ value: null }] }, "Batch entry identifier is not a valid string."],
    [{ entries: [{ id: "a" }, { id: "a" }] }, "Batch entry IDs are not distinct."],
    [{ entries: [] }, "Empty batch."],
    [{}, "Empty batch."],
    [{ entries: Array.from({ length: 11 }, (_, i) => ({ id: `e${i}` })) }, "Too many entries in batch."],
    ["", "Request body is empty. Data is required."],
    ["null", "Request body is empty. Data is required."],
  ])("refuses %j with 422 / 42208", async (body, message) => {
    const { app, sent } = setup();
    const res = await batch(app, body);
    expect(res.status).toBe(422);
    expect(await json(res)).toEqual({ error_code: 42208, message });
    expect(sent).toHaveLength(0);
  });

  it("accepts ids of letters, digits, - and _ up to 80 long", async () => {
    const { app } = setup();
    const id = `A-z_09${"x".repeat(74)}`;
    const res = await batch(app, { entries: [{ id, ...str("v") }] });
    expect(res.status).toBe(207);
    expect((await json(res)).successes[0].id).toBe(id);
  });

  it("refuses unknown fields as a whole with 422 / 422", async () => {
    const { app } = setup();
    for (const [body, field] of [
      [{ records: [] }, "records"],
      [{ entries: [{ id: "a", partition: 1 }] }, "partition"],
      [{ entries: [{ id: "a", value: { type: "JSON", data: 1, format: "x" } }] }, "format"],
    ] as const) {
      const res = await batch(app, body);
      expect(res.status).toBe(422);
      expect(await json(res)).toEqual({ error_code: 422, message: `Unrecognized field: ${field}` });
    }
  });
});

describe("v2 produce", () => {
  const v2 = (app: Hono, body: unknown, headers: Record<string, string> = {}) =>
    app.request("/topics/t", {
      method: "POST",
      headers: { "content-type": "application/vnd.kafka.binary.v2+json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const fail = (code: number) => ({
    result: { ok: false as const, error: deliveryError({ code, message: `code ${code}` }) },
  });

  it("escalates to the status of the first record that failed authentication or authorization", async () => {
    const codes = [
      librdkafka.MSG_TIMED_OUT,
      librdkafka.TOPIC_AUTHORIZATION_FAILED,
      librdkafka.SASL_AUTHENTICATION_FAILED,
    ];
    const { app } = setup({ deliver: (n) => fail(codes[n] as number) });
    const res = await v2(app, { records: [{ value: "YQ==" }, { value: "Yg==" }, { value: "Yw==" }] });
    expect(res.status).toBe(403);
    expect((await json(res)).offsets.map((o: { error_code: number }) => o.error_code)).toEqual([50003, 40301, 40101]);
  });

  it("stays 200 when every record failed for other reasons", async () => {
    const { app } = setup({ deliver: () => fail(librdkafka.MSG_SIZE_TOO_LARGE) });
    const res = await v2(app, { records: [{ value: "YQ==" }] });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      offsets: [{ partition: null, offset: null, error_code: 50002, error: "code 10" }],
      key_schema_id: null,
      value_schema_id: null,
    });
  });

  it("writes nothing when any record is bad", async () => {
    const { app, sent } = setup();
    const res = await v2(app, { records: [{ value: "YQ==" }, { value: "!" }] });
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({
      error_code: 400,
      message: 'Bad Request: data="!" is not a valid base64 string.',
    });
    expect(sent).toHaveLength(0);
  });

  it("lets a record's partition win over the path's, as REST Proxy does", async () => {
    const { app, sent } = setup();
    const res = await app.request("/topics/t/partitions/1", {
      method: "POST",
      headers: { "content-type": "application/vnd.kafka.json.v2+json" },
      body: JSON.stringify({ records: [{ value: 1 }, { value: 2, partition: 2 }] }),
    });
    expect(res.status).toBe(200);
    expect(sent.map((r) => r.partition)).toEqual([1, 2]);
  });

  it("answers schema formats as REST Proxy without a schema registry does", async () => {
    const { app } = setup();
    const avro = { "content-type": "application/vnd.kafka.avro.v2+json" };
    const named = await v2(app, { value_schema: '"string"', records: [{ value: "a" }] }, avro);
    expect([named.status, (await json(named)).error_code]).toEqual([422, 42206]);
    const unnamed = await v2(app, { records: [{ value: "a" }] }, avro);
    expect([unnamed.status, (await json(unnamed)).error_code]).toEqual([422, 42207]);
  });
});
