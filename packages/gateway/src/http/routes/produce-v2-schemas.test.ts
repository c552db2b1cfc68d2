/**
 * v2 produce of avro, jsonschema and protobuf against a fake registry at its HTTP boundary and a
 * fake producer pool: the wire bytes, the response ids, and every refusal writing nothing.
 */
import avro from "avsc";
import { Hono } from "hono";
import { Counter, Registry } from "prom-client";
import protobuf from "protobufjs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../config.ts";
import type { OutgoingRecord } from "../../kafka/producer-pool.ts";
import { createSchemaSupport, type Schemas } from "../../schemas/index.ts";
import { type FakeRegistry, startFakeRegistry } from "../../schemas/testing.ts";
import { recordingProducerPool } from "../../testing.ts";
import { createErrorHandler } from "../error-handler.ts";
import { produceV2Routes } from "./produce-v2.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

let registry: FakeRegistry;
let schemas: Schemas;
let sent: OutgoingRecord[];
let app: Hono;
let counter: Counter<"outcome">;

beforeAll(async () => {
  registry = await startFakeRegistry();
  const config = parseConfig({
    "bootstrap.servers": "unused:9092",
    "schema.registry.url": registry.url,
    "schema.registry.request.timeout.ms": "2000",
  });
  counter = new Counter({ name: "sr_requests", help: "h", labelNames: ["outcome"], registers: [new Registry()] });
  schemas = (await createSchemaSupport(config.schemaRegistry, counter)) as Schemas;
  const recording = recordingProducerPool(1000);
  sent = recording.sent;
  // "missing" is a topic Kafka does not have.
  const pool = { ...recording.pool, partitionCount: async (topic: string) => (topic === "missing" ? null : 3) };
  app = new Hono();
  app.route("/", produceV2Routes({ config, producers: pool, schemas }));
  // biome-ignore lint/suspicious/noExplicitAny: the logger's shape is irrelevant here
  app.onError(createErrorHandler(silent as any));
});

afterAll(async () => {
  schemas.close();
  await registry.close();
});

beforeEach(() => {
  sent.length = 0;
  registry.fail(null);
});

const post = async (format: string, body: unknown, topic = "t") => {
  const res = await app.request(`/topics/${topic}`, {
    method: "POST",
    headers: { "content-type": `application/vnd.kafka.${format}.v2+json` },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
  return { status: res.status, body: (await res.json()) as any };
};

const header = (bytes: Buffer | null) => ({ magic: bytes?.[0], id: bytes?.readUInt32BE(1) });

const userSchema = {
  type: "record",
  name: "User",
  namespace: "com.example",
  fields: [
    { name: "name", type: "string" },
    { name: "nick", type: ["null", "string"], default: null },
    { name: "avatar", type: "bytes" },
    { name: "born", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "kind", type: { type: "enum", name: "Kind", symbols: ["ADMIN", "GUEST"] } },
  ],
};
const user = { name: "ann", nick: { string: "a" }, avatar: "\u00ff\u0000A", born: 1700000000000, kind: "GUEST" };

describe("v2 produce avro", () => {
  it("registers an inline value schema under <topic>-value and writes the wire format", async () => {
    const res = await post("avro", { value_schema: JSON.stringify(userSchema), records: [{ value: user }] }, "users");
    expect(res.status).toBe(200);
    expect(res.body.key_schema_id).toBeNull();
    const id = res.body.value_schema_id;
    expect(id).toBeGreaterThan(0);
    expect(res.body.offsets).toEqual([{ partition: 0, offset: 0, error_code: null, error: null }]);
    const value = sent[0]?.value as Buffer;
    expect(header(value)).toEqual({ magic: 0, id });
    // Read back with avsc directly, not through the gateway's conversion.
    const decoded = avro.Type.forSchema(userSchema as never).fromBuffer(value.subarray(5));
    expect(decoded).toMatchObject({ name: "ann", nick: "a", born: 1700000000000, kind: "GUEST" });
    expect(decoded.avatar).toEqual(Buffer.from([0xff, 0x00, 0x41]));
    expect(sent[0]?.key).toBeNull();
    expect(registry.requests).toContain("POST /subjects/users-value/versions");
  });

  it("refuses an unknown topic with 404 / 40401 before registering anything", async () => {
    const before = registry.requests.length;
    const res = await post("avro", { value_schema: JSON.stringify(userSchema), records: [{ value: user }] }, "missing");
    expect([res.status, res.body.error_code]).toEqual([404, 40401]);
    expect(registry.requests.slice(before)).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("serializes keys with key_schema and uses value_schema_id", async () => {
    const first = await post("avro", { value_schema: JSON.stringify(userSchema), records: [{ value: user }] }, "ids");
    const id = first.body.value_schema_id;
    sent.length = 0;
    const res = await post(
      "avro",
      { key_schema: '"string"', value_schema_id: id, records: [{ key: "k1", value: user, partition: 2 }] },
      "ids",
    );
    expect(res.status).toBe(200);
    expect(res.body.value_schema_id).toBe(id);
    expect(res.body.key_schema_id).toBeGreaterThan(0);
    expect(sent[0]?.partition).toBe(2);
    expect(header(sent[0]?.key as Buffer).id).toBe(res.body.key_schema_id);
    const key = sent[0]?.key as Buffer;
    expect(key.subarray(5)).toEqual(avro.Type.forSchema("string").toBuffer("k1"));
  });

  it("asks the registry nothing for a request it has seen the schemas of", async () => {
    const body = { value_schema: JSON.stringify(userSchema), records: [{ value: user }, { value: user }] };
    await post("avro", body, "cached");
    const before = registry.requests.length;
    const counted = async () => (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
    const countedBefore = await counted();
    expect(countedBefore).toBe(before);
    for (let i = 0; i < 3; i++) expect((await post("avro", body, "cached")).status).toBe(200);
    expect(registry.requests.length).toBe(before);
    expect(await counted()).toBe(countedBefore);
    expect(sent).toHaveLength(8);
  });

  it("answers 42203 for a record its schema does not accept, writing none of the request", async () => {
    const res = await post("avro", {
      value_schema: JSON.stringify(userSchema),
      records: [{ value: user }, { value: { ...user, nick: "not wrapped" } }],
    });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe(42203);
    expect(res.body.message).toMatch(/^Conversion of JSON to Object failed: /);
    expect(sent).toHaveLength(0);
  });

  it("answers 42202 / 42201 for values / keys without a schema; null ones need none", async () => {
    const values = await post("avro", { records: [{ value: 1 }] });
    expect(values.status).toBe(422);
    expect(values.body.error_code).toBe(42202);
    const keys = await post("avro", { value_schema: '"int"', records: [{ key: "k", value: 1 }] });
    expect(keys.body.error_code).toBe(42201);
    expect(sent).toHaveLength(0);
    const nulls = await post("avro", { value_schema: '"int"', records: [{ value: 1 }, { key: null, value: null }] });
    expect(nulls.status).toBe(200);
    expect(sent[1]?.value).toBeNull();
  });

  it("answers 42205 for a schema avsc cannot parse, registering nothing", async () => {
    const before = registry.requests.length;
    const res = await post("avro", { value_schema: '{"type":"record","name":"X"}', records: [{ value: {} }] });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe(42205);
    expect(registry.requests.length).toBe(before);
  });

  it("answers REST Proxy's 42207 for an unknown schema id", async () => {
    const res = await post("avro", { value_schema_id: 9999, records: [{ value: 1 }] });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe(42207);
    expect(res.body.message).toContain("schemaId = 9999");
    expect(sent).toHaveLength(0);
  });

  it("passes the registry's incompatible-schema refusal on as 42207 with its message", async () => {
    registry.refuseNew("strict-value");
    const res = await post("avro", { value_schema: '"long"', records: [{ value: 1 }] }, "strict");
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe(42207);
    expect(res.body.message).toContain("incompatible");
    expect(sent).toHaveLength(0);
  });

  it("answers a retriable 503 when the registry is down or failing, and recovers", async () => {
    const schema = JSON.stringify({ type: "record", name: "Down", fields: [{ name: "a", type: "int" }] });
    registry.fail("down");
    const down = await post("avro", { value_schema: schema, records: [{ value: { a: 1 } }] }, "down");
    expect(down.status).toBe(503);
    expect(down.body.error_code).toBe(50003);
    registry.fail(500);
    const failing = await post("avro", { value_schema: schema, records: [{ value: { a: 1 } }] }, "down");
    expect(failing.status).toBe(503);
    expect(sent).toHaveLength(0);
    registry.fail(null);
    const back = await post("avro", { value_schema: schema, records: [{ value: { a: 1 } }] }, "down");
    expect(back.status).toBe(200);
    expect(sent).toHaveLength(1);
  });
});

describe("v2 produce jsonschema", () => {
  const schema = JSON.stringify({
    type: "object",
    properties: { id: { type: "integer" }, tags: { type: "array", items: { type: "string" } } },
    required: ["id"],
    additionalProperties: false,
  });

  it("validates and writes JSON text after the wire header", async () => {
    const res = await post("jsonschema", { value_schema: schema, records: [{ value: { id: 7, tags: ["a"] } }] }, "js");
    expect(res.status).toBe(200);
    const value = sent[0]?.value as Buffer;
    expect(header(value)).toEqual({ magic: 0, id: res.body.value_schema_id });
    expect(JSON.parse(value.subarray(5).toString())).toEqual({ id: 7, tags: ["a"] });
    expect(registry.requests).toContain("POST /subjects/js-value/versions");
  });

  it("answers 42203 for a value the schema refuses", async () => {
    const res = await post("jsonschema", { value_schema: schema, records: [{ value: { tags: ["a"] } }] }, "js");
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe(42203);
    expect(sent).toHaveLength(0);
  });

  it("answers 42205 for a schema that is not JSON Schema", async () => {
    const res = await post("jsonschema", { value_schema: '{"type": 12}', records: [{ value: 1 }] }, "js");
    expect(res.body.error_code).toBe(42205);
  });
});

describe("v2 produce protobuf", () => {
  const proto = `syntax = "proto3";
package shop;
message Order {
  int64 order_id = 1;
  Status status = 2;
  Line line = 3;
  repeated string notes = 4;
  bytes blob = 5;
  message Line { string sku = 1; int32 qty = 2; }
}
enum Status { NEW = 0; PAID = 1; }
`;

  it("writes message indexes [0] and the message, from the JSON mapping", async () => {
    const value = { orderId: "12345678901234", status: "PAID", line: { sku: "x", qty: 2 }, notes: ["n"], blob: "AQI=" };
    const res = await post("protobuf", { value_schema: proto, records: [{ value }] }, "pb");
    expect(res.status).toBe(200);
    const bytes = sent[0]?.value as Buffer;
    expect(header(bytes)).toEqual({ magic: 0, id: res.body.value_schema_id });
    expect(bytes[5]).toBe(0);
    const Order = protobuf.parse(proto, { keepCase: true }).root.lookupType("shop.Order");
    const decoded = Order.toObject(Order.decode(bytes.subarray(6)), { longs: String, enums: String });
    expect(decoded).toEqual({
      order_id: "12345678901234",
      status: "PAID",
      line: { sku: "x", qty: 2 },
      notes: ["n"],
      blob: Buffer.from([1, 2]),
    });
  });

  it("takes the .proto field names too, and refuses unknown fields and wrong types with 42203", async () => {
    expect((await post("protobuf", { value_schema: proto, records: [{ value: { order_id: 1 } }] }, "pb")).status).toBe(
      200,
    );
    const unknown = await post("protobuf", { value_schema: proto, records: [{ value: { nope: 1 } }] }, "pb");
    expect(unknown.body.error_code).toBe(42203);
    const wrong = await post(
      "protobuf",
      { value_schema: proto, records: [{ value: { line: { qty: "many" } } }] },
      "pb",
    );
    expect(wrong.body.error_code).toBe(42203);
  });

  it("answers 42205 for .proto text protobufjs cannot parse", async () => {
    const res = await post("protobuf", { value_schema: "message {", records: [{ value: {} }] }, "pb");
    expect(res.body.error_code).toBe(42205);
  });
});
