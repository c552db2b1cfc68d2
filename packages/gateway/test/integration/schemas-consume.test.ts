/**
 * v2 consume and event streams in avro, jsonschema and protobuf through the load balancer: the
 * records come back as REST Proxy renders them (Avro's JSON encoding, JSON Schema's JSON,
 * Protobuf's JSON printer with defaults), and a record that is not in the wire format does not
 * block the consumer.
 */
import { describe, expect, it } from "vitest";
import { call, createTopic, lbUrl, unique, V2_BINARY } from "./helpers.ts";
import { b64, produceV2 } from "./produce-helpers.ts";
import {
  CONSUMED_VALUES,
  JSON_ORDERS,
  KEY_SCHEMA,
  PROTOBUF_ORDERS,
  PROTOBUF_ORDERS_REST,
  RECORDS,
  VALUE_SCHEMA,
} from "./schemas-fixtures.ts";
import {
  type ConsumedRecord,
  consumeSchema,
  deleteConsumer,
  expectProduced,
  FORMATS,
  pollSchema,
  produceSchemaV2,
  registerSchema,
  registryUrl,
  type SchemaFormat,
  schemaConsumer,
} from "./schemas-helpers.ts";
import { kafkaProducer, readEvents, recordOf, SseConnection } from "./sse-helpers.ts";
import { encodeWithPython } from "./wire-decode.ts";

/** How REST Proxy renders each format's key (RECORDS' keys). */
const CONSUMED_KEYS: Record<SchemaFormat, unknown[]> = {
  avro: RECORDS.avro.map((r) => r.key),
  jsonschema: RECORDS.jsonschema.map((r) => r.key),
  protobuf: RECORDS.protobuf.map((r) => r.key),
};

async function produceRecords(topic: string, format: SchemaFormat) {
  return expectProduced(
    await produceSchemaV2(topic, format, {
      key_schema: KEY_SCHEMA[format],
      value_schema: VALUE_SCHEMA[format],
      records: RECORDS[format],
    }),
    RECORDS[format].length,
  ).json as { key_schema_id: number; value_schema_id: number };
}

describe.each(FORMATS)("v2 consume, %s", (format) => {
  it("gives back each key and value as REST Proxy renders them", async () => {
    const topic = await createTopic(unique(`sch-cons-${format}`), 1);
    await produceRecords(topic, format);
    const consumer = await schemaConsumer(topic, format, unique("g"));
    try {
      const records = await consumeSchema(consumer, format, RECORDS[format].length);
      expect(records.map((r) => r.value)).toEqual(CONSUMED_VALUES[format]);
      expect(records.map((r) => r.key)).toEqual(CONSUMED_KEYS[format]);
      expect(records.map((r) => [r.topic, r.partition, r.offset])).toEqual(
        RECORDS[format].map((_, i) => [topic, 0, i]),
      );
      // The format is the instance's: asking for another embedded format is 406 / 40601.
      const wrong = await call("GET", `${lbUrl()}/consumers/${consumer.group}/instances/c1/records?timeout=10`, {
        headers: { accept: V2_BINARY },
      });
      expect([wrong.status, wrong.json?.error_code]).toEqual([406, 40601]);
    } finally {
      await deleteConsumer(consumer);
    }
  });

  it("renders a Kafka null value as null and keeps reading", async () => {
    const topic = await createTopic(unique(`sch-cons-${format}-null`), 1);
    const [first] = RECORDS[format];
    expectProduced(
      await produceSchemaV2(topic, format, {
        key_schema: KEY_SCHEMA[format],
        value_schema: VALUE_SCHEMA[format],
        records: [{ key: first?.key, value: null }, first],
      }),
      2,
    );
    const consumer = await schemaConsumer(topic, format, unique("g"));
    try {
      const records = await consumeSchema(consumer, format, 2);
      expect(records.map((r) => r.value)).toEqual([null, CONSUMED_VALUES[format][0]]);
      expect(records.map((r) => r.key)).toEqual([CONSUMED_KEYS[format][0], CONSUMED_KEYS[format][0]]);
    } finally {
      await deleteConsumer(consumer);
    }
  });
});

/** An Avro record Python's AvroSerializer takes as a plain dict (no bytes or decimals to spell in JSON). */
const PY_AVRO = JSON.stringify({
  type: "record",
  name: "PyOrder",
  namespace: "wharf.test",
  fields: [
    { name: "id", type: "long" },
    { name: "note", type: ["null", "string"], default: null },
    { name: "status", type: { type: "enum", name: "PyStatus", symbols: ["NEW", "PAID"] } },
    { name: "customer", type: { type: "record", name: "PyCustomer", fields: [{ name: "name", type: "string" }] } },
  ],
});

describe("v2 consume of records written by Confluent's Python serializers", () => {
  it("renders them as REST Proxy does, in each format", async () => {
    const cases: Array<{ format: SchemaFormat; encode: (topic: string) => Promise<Buffer>; rendered: unknown }> = [
      {
        format: "avro",
        encode: async (topic) => {
          const value = { id: 5, note: "from python", status: "PAID", customer: { name: "Ann" } };
          const [out] = await encodeWithPython(registryUrl(), [{ format: "avro", topic, schema: PY_AVRO, value }]);
          return out?.bytes as Buffer;
        },
        rendered: { id: 5, note: { string: "from python" }, status: "PAID", customer: { name: "Ann" } },
      },
      {
        format: "jsonschema",
        encode: async (topic) => {
          const [out] = await encodeWithPython(registryUrl(), [
            { format: "jsonschema", topic, schema: VALUE_SCHEMA.jsonschema, value: JSON_ORDERS[0] },
          ]);
          return out?.bytes as Buffer;
        },
        rendered: JSON_ORDERS[0],
      },
      {
        format: "protobuf",
        encode: async (topic) => {
          const schemaId = await registerSchema(`${topic}-value`, "protobuf", VALUE_SCHEMA.protobuf);
          const [out] = await encodeWithPython(registryUrl(), [
            { format: "protobuf", topic, schemaId, message: "wharf.test.Order", value: PROTOBUF_ORDERS[0] },
          ]);
          return out?.bytes as Buffer;
        },
        rendered: PROTOBUF_ORDERS_REST[0],
      },
    ];
    for (const { format, encode, rendered } of cases) {
      const topic = await createTopic(unique(`sch-cons-py-${format}`), 1);
      const bytes = await encode(topic);
      const kafka = await kafkaProducer();
      try {
        kafka.send(topic, 0, bytes);
        await kafka.flush();
      } finally {
        await kafka.close();
      }
      const consumer = await schemaConsumer(topic, format, unique("g"));
      try {
        const [record] = await consumeSchema(consumer, format, 1);
        expect(record?.value, format).toEqual(rendered);
        expect(record?.key, format).toBeNull();
      } finally {
        await deleteConsumer(consumer);
      }
    }
  });
});

/**
 * Polls until `good` records arrived, keeping every answer. A record the consumer cannot decode
 * may be answered as an error (a Confluent body) or handed over with an `error`; either way the
 * records after it must arrive.
 */
async function readPast(
  consumer: Awaited<ReturnType<typeof schemaConsumer>>,
  format: SchemaFormat,
  good: number,
  deadlineMs = 40_000,
) {
  const records: Array<ConsumedRecord & { error?: string }> = [];
  const errors: Array<{ status: number; error_code: number; message: string }> = [];
  const deadline = Date.now() + deadlineMs;
  const decoded = () => records.filter((r) => r.error === undefined && r.value !== null);
  while (decoded().length < good && Date.now() < deadline) {
    const res = await pollSchema(consumer, format);
    if (res.status === 200) {
      records.push(...res.json);
      continue;
    }
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(typeof res.json?.error_code, res.text).toBe("number");
    expect(typeof res.json?.message, res.text).toBe("string");
    errors.push({ status: res.status, ...res.json });
    expect(errors.length, "the same undecodable record answered again and again").toBeLessThan(20);
  }
  return { records, errors, decoded: decoded() };
}

describe("v2 consume of records that are not in the wire format", () => {
  it("does not block an avro consumer on a binary record, an unknown schema id or a truncated record", async () => {
    const topic = await createTopic(unique("sch-cons-bad"), 1);
    const [a, b] = RECORDS.avro;
    const schemas = { value_schema: VALUE_SCHEMA.avro };
    expectProduced(await produceSchemaV2(topic, "avro", { ...schemas, records: [{ value: a?.value }] }), 1);
    // Offset 1: plain bytes on the same topic, as a binary producer writes them.
    expectProduced(await produceV2(topic, { records: [{ value: b64("not avro") }] }), 1);
    // Offset 2: the magic byte, an id the registry never gave out, then garbage; 3: the header cut short.
    const kafka = await kafkaProducer();
    try {
      kafka.send(topic, 0, Buffer.from([0, 0x77, 0x35, 0x94, 0x00, 1, 2, 3]));
      kafka.send(topic, 0, Buffer.from([0, 0, 0]));
      await kafka.flush();
    } finally {
      await kafka.close();
    }
    expectProduced(await produceSchemaV2(topic, "avro", { ...schemas, records: [{ value: b?.value }] }), 1);

    const consumer = await schemaConsumer(topic, "avro", unique("g"));
    try {
      const { records, errors, decoded } = await readPast(consumer, "avro", 2);
      expect(decoded.map((r) => [r.offset, r.value])).toEqual([
        [0, CONSUMED_VALUES.avro[0]],
        [4, CONSUMED_VALUES.avro[1]],
      ]);
      // As REST Proxy, each undecodable record is answered 408 / 40801 (its SerializationException);
      // unlike REST Proxy, only once: the next poll goes past it (README, "Where Wharf differs").
      expect(records.filter((r) => r.error !== undefined)).toEqual([]);
      expect(errors.map((e) => [e.status, e.error_code])).toEqual([
        [408, 40801],
        [408, 40801],
        [408, 40801],
      ]);
    } finally {
      await deleteConsumer(consumer);
    }
  });
});

describe.each(FORMATS)("topic event stream, format=%s", (format) => {
  it("sends each record decoded as the v2 consumer renders it", async () => {
    const topic = await createTopic(unique(`sch-sse-${format}`), 1);
    await produceRecords(topic, format);
    const stream = await SseConnection.open(`${lbUrl()}/topics/${topic}/stream?from=earliest&format=${format}`);
    try {
      expect(stream.status, stream.status === 200 ? "" : await stream.text()).toBe(200);
      const events = (await readEvents(stream, RECORDS[format].length)).map(recordOf);
      expect(events.map((e) => e.value)).toEqual(CONSUMED_VALUES[format]);
      expect(events.map((e) => e.key)).toEqual(CONSUMED_KEYS[format]);
      expect(events.map((e) => e.offset)).toEqual(RECORDS[format].map((_, i) => i));
    } finally {
      stream.close();
    }
  });
});

describe("topic event stream of records that are not in the wire format", () => {
  it("sends them with a null value and an error, and goes on with the records after them", async () => {
    const topic = await createTopic(unique("sch-sse-bad"), 1);
    const [a, b] = RECORDS.avro;
    const schemas = { value_schema: VALUE_SCHEMA.avro };
    expectProduced(await produceSchemaV2(topic, "avro", { ...schemas, records: [{ value: a?.value }] }), 1);
    expectProduced(await produceV2(topic, { records: [{ value: b64("not avro") }] }), 1);
    expectProduced(await produceSchemaV2(topic, "avro", { ...schemas, records: [{ value: b?.value }] }), 1);
    const stream = await SseConnection.open(`${lbUrl()}/topics/${topic}/stream?from=earliest&format=avro`);
    try {
      expect(stream.status).toBe(200);
      const events = (await readEvents(stream, 3)).map((e) => JSON.parse(e.data));
      expect(events.map((e) => e.offset)).toEqual([0, 1, 2]);
      expect(events[0].value).toEqual(CONSUMED_VALUES.avro[0]);
      expect(events[1].value).toBeNull();
      expect(typeof events[1].error, JSON.stringify(events[1])).toBe("string");
      expect(events[2].value).toEqual(CONSUMED_VALUES.avro[1]);
      expect(events[2].error).toBeUndefined();
    } finally {
      stream.close();
    }
  });
});

describe("consumer instance event stream, format=avro", () => {
  it("decodes the records of an avro consumer instance", async () => {
    const topic = await createTopic(unique("sch-sse-cons"), 1);
    await produceRecords(topic, "avro");
    const consumer = await schemaConsumer(topic, "avro", unique("g"));
    const url = `${lbUrl()}/consumers/${consumer.group}/instances/c1/records`;
    const stream = await SseConnection.open(url, { accept: "text/event-stream" });
    try {
      expect(stream.status, stream.status === 200 ? "" : await stream.text()).toBe(200);
      const values: unknown[] = [];
      while (values.length < RECORDS.avro.length) {
        const event = await stream.next();
        if (event === null) throw new Error(`stream ended after ${values.length} records`);
        // Position-only events (an `id:` and no data) carry no record.
        if (event.data !== "" && event.event === "message") values.push(recordOf(event).value);
      }
      expect(values).toEqual(CONSUMED_VALUES.avro);
    } finally {
      stream.close();
      await deleteConsumer(consumer);
    }
  });
});

describe("consumer formats", () => {
  it("creates consumers in each schema format, case-insensitively, and refuses an unknown one with 422", async () => {
    const group = unique("g");
    for (const format of [...FORMATS, "AVRO"]) {
      const res = await call("POST", `${lbUrl()}/consumers/${group}`, {
        headers: { "content-type": "application/vnd.kafka.v2+json" },
        body: { name: format, format },
      });
      expect(res.status, res.text).toBe(200);
      const deleted = await call("DELETE", `${lbUrl()}/consumers/${group}/instances/${format}`);
      expect(deleted.status).toBe(204);
    }
    const unknown = await call("POST", `${lbUrl()}/consumers/${group}`, {
      headers: { "content-type": "application/vnd.kafka.v2+json" },
      body: { name: "x", format: "xml" },
    });
    expect(unknown.status, unknown.text).toBe(422);
  });
});
