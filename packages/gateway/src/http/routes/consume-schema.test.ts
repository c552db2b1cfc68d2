/** v2 consume of schema formats: decoding by the id in each record, and what an undecodable one does. */
import type Kafka from "@confluentinc/kafka-javascript";
import avro from "avsc";
import { Counter, Registry } from "prom-client";
import protobuf from "protobufjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../config.ts";
import { RestError } from "../../errors.ts";
import type { ConsumedMessage } from "../../kafka/consumer-instance.ts";
import { createSchemaSupport, type Schemas } from "../../schemas/index.ts";
import { type FakeRegistry, startFakeRegistry } from "../../schemas/testing.ts";
import { recordJson } from "../sse/record-event.ts";
import { schemaRecordReader } from "./consume-schema.ts";

let registry: FakeRegistry;
let schemas: Schemas;

beforeAll(async () => {
  registry = await startFakeRegistry();
  const config = parseConfig({ "bootstrap.servers": "unused:9092", "schema.registry.url": registry.url });
  const counter = new Counter({ name: "c", help: "h", labelNames: ["outcome"], registers: [new Registry()] });
  schemas = (await createSchemaSupport(config.schemaRegistry, counter)) as Schemas;
});
afterAll(async () => {
  schemas.close();
  await registry.close();
});

const framed = (id: number, payload: Uint8Array) => {
  const out = Buffer.alloc(5 + payload.length);
  out.writeUInt32BE(id, 1);
  out.set(payload, 5);
  return out;
};
const message = (offset: number, value: Buffer | null, key: Buffer | null = null): ConsumedMessage =>
  ({ topic: "t", partition: 0, offset, key, value, size: value?.length ?? 0 }) as Kafka.Message;

const userSchema = {
  type: "record",
  name: "User",
  fields: [
    { name: "name", type: "string" },
    { name: "nick", type: ["null", "string"] },
    { name: "avatar", type: "bytes" },
  ],
};

const read = async (format: "avro" | "jsonschema" | "protobuf", messages: ConsumedMessage[]) => {
  const reader = schemaRecordReader(schemas, format, (record) => record);
  const admitted = await reader.admit(messages);
  return { admitted, records: reader.records, error: reader.failure.error };
};

describe("v2 consume of schema formats", () => {
  it("renders avro as Avro's JSON encoding (wrapped unions, bytes as code points)", async () => {
    const id = registry.register("t-value", JSON.stringify(userSchema));
    const type = avro.Type.forSchema(userSchema as never);
    const value = framed(id, type.toBuffer({ name: "ann", nick: "a", avatar: Buffer.from([0xff, 1]) }));
    const keyId = registry.register("t-key", '"string"');
    const key = framed(keyId, avro.Type.forSchema("string").toBuffer("k"));
    const { admitted, records } = await read("avro", [message(0, value, key), message(1, null)]);
    expect(admitted).toBe(2);
    expect(records).toEqual([
      {
        topic: "t",
        key: "k",
        value: { name: "ann", nick: { string: "a" }, avatar: "\u00ff\u0001" },
        partition: 0,
        offset: 0,
      },
      { topic: "t", key: null, value: null, partition: 0, offset: 1 },
    ]);
  });

  it("renders jsonschema as the JSON written and protobuf as JsonFormat prints it", async () => {
    const js = registry.register("j-value", '{"type":"object"}', "JSON");
    const json = await read("jsonschema", [message(0, framed(js, Buffer.from('{"a":[1,2]}')))]);
    expect(json.records[0]?.value).toEqual({ a: [1, 2] });

    const proto =
      'syntax = "proto3"; message Top { int32 x = 1; } message Order { int64 order_id = 1; string note = 2; }';
    const pb = registry.register("p-value", proto, "PROTOBUF");
    const Order = protobuf.parse(proto, { keepCase: true }).root.lookupType("Order");
    // Message indexes [1] (the second message): count 1, index 1, both zigzag varints.
    const body = Order.encode(Order.fromObject({ order_id: "42" })).finish();
    const payload = Buffer.concat([Buffer.from([2, 2]), body]);
    const out = await read("protobuf", [message(0, framed(pb, payload))]);
    expect(out.records[0]?.value).toEqual({ orderId: "42", note: "" });
  });

  it("answers the records before an undecodable one, then 40801 for it once, moving past it", async () => {
    const id = registry.register("t-value", '"int"');
    const good = framed(id, avro.Type.forSchema("int").toBuffer(5));
    const foreign = Buffer.from("plain text");
    const first = await read("avro", [message(0, good), message(1, foreign), message(2, good)]);
    expect(first.admitted).toBe(1);
    expect(first.error).toBeNull();
    expect(first.records.map((r) => r.value)).toEqual([5]);
    const second = await read("avro", [message(1, foreign), message(2, good)]);
    expect(second.admitted).toBe(1);
    expect(second.records).toEqual([]);
    expect(second.error?.status).toBe(408);
    expect(second.error?.errorCode).toBe(40801);
    expect(second.error?.message).toContain("partition t-0 at offset 1");
  });

  it("treats an id the registry does not know as undecodable, and a record of another format too", async () => {
    const unknown = await read("avro", [message(0, framed(4242, Buffer.from([2])))]);
    expect(unknown.error?.errorCode).toBe(40801);
    const js = registry.register("k-value", '{"type":"integer"}', "JSON");
    const other = await read("avro", [message(0, framed(js, Buffer.from("1")))]);
    expect(other.error?.message).toContain("not AVRO");
  });

  it("fails the whole read with a retriable 503 while the registry is down, handing nothing out", async () => {
    const id = registry.register("d-value", '"long"');
    const record = framed(id, avro.Type.forSchema("long").toBuffer(1));
    registry.fail("down");
    try {
      await expect(read("avro", [message(0, record)])).rejects.toSatisfy(
        (e) => e instanceof RestError && e.status === 503,
      );
    } finally {
      registry.fail(null);
    }
    expect((await read("avro", [message(0, record)])).records[0]?.value).toBe(1);
  });

  it("decodes the same way in event streams, with an undecodable record sent as null with an error", async () => {
    const id = registry.register("s-value", '"string"');
    const m = message(0, framed(id, avro.Type.forSchema("string").toBuffer("hi")));
    await schemas.prepare("avro", [m.value as Buffer]);
    expect(JSON.parse(recordJson(m, "avro", schemas)).value).toBe("hi");
    const bad = JSON.parse(recordJson(message(1, Buffer.from("x")), "avro", schemas));
    expect(bad.value).toBeNull();
    expect(bad.error).toMatch(/value cannot be decoded/);
  });
});
