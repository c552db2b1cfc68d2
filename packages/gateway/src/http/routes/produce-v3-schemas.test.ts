/** v3 produce with REST Proxy v3's schema fields, against a fake registry and a fake producer pool. */
import avro from "avsc";
import { Hono } from "hono";
import { Counter, Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../config.ts";
import type { OutgoingRecord } from "../../kafka/producer-pool.ts";
import { createSchemaSupport, type Schemas } from "../../schemas/index.ts";
import { type FakeRegistry, startFakeRegistry } from "../../schemas/testing.ts";
import { recordingProducerPool } from "../../testing.ts";
import { createErrorHandler } from "../error-handler.ts";
import { produceV3Routes } from "./produce-v3.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let registry: FakeRegistry;
let schemas: Schemas;
let sent: OutgoingRecord[];
let app: Hono;

beforeAll(async () => {
  registry = await startFakeRegistry();
  const config = parseConfig({ "bootstrap.servers": "unused:9092", "schema.registry.url": registry.url });
  const counter = new Counter({ name: "c", help: "h", labelNames: ["outcome"], registers: [new Registry()] });
  schemas = (await createSchemaSupport(config.schemaRegistry, counter)) as Schemas;
  const recording = recordingProducerPool(1_612_552_482_000);
  sent = recording.sent;
  // "missing" is a topic Kafka does not have.
  const pool = { ...recording.pool, partitionCount: async (topic: string) => (topic === "missing" ? null : 3) };
  app = new Hono();
  app.route("/", produceV3Routes({ config, producers: pool, schemas }));
  // biome-ignore lint/suspicious/noExplicitAny: the logger's shape is irrelevant here
  app.onError(createErrorHandler(silent as any));
});
afterAll(async () => {
  schemas.close();
  await registry.close();
});
beforeEach(() => {
  sent.length = 0;
});

// biome-ignore lint/suspicious/noExplicitAny: reports are checked field by field
const stream = async (topic: string, ...records: unknown[]): Promise<any[]> => {
  const res = await app.request(`/v3/clusters/c1/topics/${topic}/records`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: records.map((r) => JSON.stringify(r)).join("\n"),
  });
  expect(res.status).toBe(200);
  return (await res.text())
    .split("\r\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
};

const orderSchema = JSON.stringify({
  type: "record",
  name: "Order",
  namespace: "shop",
  fields: [
    { name: "id", type: "long" },
    { name: "note", type: ["null", "string"], default: null },
  ],
});
const idOf = (bytes: Buffer | null | undefined) => (bytes as Buffer).readUInt32BE(1);

describe("v3 produce with schemas", () => {
  it("reports an unknown topic as 40401 before registering anything, streaming and in a batch", async () => {
    const before = registry.requests.length;
    const value = { type: "AVRO", schema: orderSchema, data: { id: 1, note: null } };
    const [report] = await stream("missing", { value });
    expect(report).toMatchObject({ error_code: 40401 });
    const batch = await app.request("/v3/clusters/c1/topics/missing/records:batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ entries: [{ id: "a", value }] }),
    });
    const answer = (await batch.json()) as { failures: Array<{ error_code: number; message: string }> };
    expect(answer.failures).toMatchObject([{ error_code: 40401 }]);
    expect(registry.requests.slice(before)).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("registers a raw schema of type AVRO and reports its subject, id and version", async () => {
    const [report] = await stream("orders", {
      key: { type: "JSON", data: "k" },
      value: { type: "AVRO", schema: orderSchema, data: { id: 1, note: { string: "x" } } },
    });
    expect(report).toMatchObject({ error_code: 200, topic_name: "orders", partition_id: 0 });
    expect(report.key).toEqual({ type: "JSON", size: 3 });
    expect(report.value).toEqual({
      type: "AVRO",
      subject: "orders-value",
      schema_id: idOf(sent[0]?.value),
      schema_version: 1,
      size: sent[0]?.value?.length,
    });
    const value = sent[0]?.value as Buffer;
    const decoded = avro.Type.forSchema(JSON.parse(orderSchema)).fromBuffer(value.subarray(5));
    expect(decoded).toMatchObject({ id: 1, note: "x" });
  });

  it("finds the schema by schema_id, by schema_version, and the subject's latest without a type", async () => {
    const id = registry.register("byid-value", orderSchema);
    const reports = await stream(
      "byid",
      { value: { schema_id: id, data: { id: 2 } } },
      { value: { schema_version: 1, data: { id: 3 } } },
      { value: { data: { id: 4 } } },
    );
    expect(reports.map((r) => r.error_code)).toEqual([200, 200, 200]);
    for (const r of reports)
      expect(r.value).toMatchObject({ type: "AVRO", subject: "byid-value", schema_id: id, schema_version: 1 });
    expect(sent.map((r) => idOf(r.value))).toEqual([id, id, id]);
  });

  it("names subjects by RECORD_NAME, TOPIC_RECORD_NAME, or the subject given", async () => {
    const reports = await stream(
      "names",
      { value: { type: "AVRO", subject_name_strategy: "RECORD_NAME", schema: orderSchema, data: { id: 1 } } },
      { value: { type: "AVRO", subject_name_strategy: "TOPIC_RECORD_NAME", schema: orderSchema, data: { id: 1 } } },
      { value: { type: "AVRO", subject: "mine", schema: orderSchema, data: { id: 1 } } },
    );
    expect(reports.map((r) => r.value.subject)).toEqual(["shop.Order", "names-shop.Order", "mine"]);
  });

  it("reports a record its schema refuses in band, and keeps the others in order", async () => {
    const schema = JSON.stringify({ type: "object", properties: { n: { type: "integer" } }, required: ["n"] });
    const reports = await stream(
      "js",
      { value: { type: "JSONSCHEMA", schema, data: { n: 1 } } },
      { value: { type: "JSONSCHEMA", schema, data: { m: 1 } } },
      { value: { type: "JSONSCHEMA", schema, data: { n: 3 } } },
    );
    expect(reports[1]).toEqual({
      error_code: 422,
      message: expect.stringMatching(/^Error: 42203 : Conversion of JSON to Object failed: /),
    });
    expect(reports.map((r) => r.error_code)).toEqual([200, 422, 200]);
    expect(sent.map((r) => JSON.parse((r.value as Buffer).subarray(5).toString()).n)).toEqual([1, 3]);
  });

  it("answers an unknown version with 400 and an unknown id with 42207, in band", async () => {
    const reports = await stream(
      "unknown",
      { value: { schema_version: 7, subject: "nothing-here", data: 1 } },
      { value: { schema_id: 31337, data: 1 } },
    );
    expect(reports[0]).toMatchObject({ error_code: 400 });
    expect(reports[0].message).toContain("Schema does not exist for subject: nothing-here, version: 7");
    expect(reports[1]).toMatchObject({ error_code: 422 });
    expect(reports[1].message).toMatch(/^Error: 42207 : /);
    expect(sent).toHaveLength(0);
  });

  it("serves records:batch with schema fields: successes and failures per entry", async () => {
    const res = await app.request("/v3/clusters/c1/topics/batch/records:batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        entries: [
          {
            id: "a",
            value: { type: "PROTOBUF", schema: 'syntax = "proto3"; message M { string s = 1; }', data: { s: "x" } },
          },
          { id: "b", value: { type: "AVRO", schema: '"int"', data: "not an int" } },
        ],
      }),
    });
    expect(res.status).toBe(207);
    // biome-ignore lint/suspicious/noExplicitAny: checked field by field
    const body = (await res.json()) as any;
    expect(body.successes).toHaveLength(1);
    expect(body.successes[0]).toMatchObject({
      id: "a",
      value: { type: "PROTOBUF", subject: "batch-value", schema_version: 1 },
    });
    expect(body.failures).toEqual([{ id: "b", error_code: 422, message: expect.stringContaining("42203") }]);
    expect(sent).toHaveLength(1);
  });
});
