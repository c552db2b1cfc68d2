/**
 * v2 produce in avro, jsonschema and protobuf against the real stack and its registry: what Kafka
 * holds is read straight from the brokers and decoded by Confluent's Python deserializers
 * (wire-decode.ts), not by the gateway's code; the schema ids in each record are the ones the
 * answer names and the registry files them under REST Proxy's subjects (`<topic>-key`, `<topic>-value`).
 */
import { describe, expect, it } from "vitest";
import { createTopic, gatewayUrl, readTopic, unique } from "./helpers.ts";
import { CONSUMED_VALUES, DECODED_VALUES, KEY_SCHEMA, RECORDS, VALUE_SCHEMA } from "./schemas-fixtures.ts";
import {
  comparable,
  consumeSchema,
  deleteConsumer,
  expectProduced,
  FORMATS,
  lookUp,
  produceSchemaV2,
  registryRequestCount,
  registryUrl,
  type SchemaFormat,
  schemaConsumer,
  subjectsOfId,
  wireSchemaId,
} from "./schemas-helpers.ts";
import { decodeWithPython } from "./wire-decode.ts";

/** Reads `count` records of a one-partition topic in offset order. */
async function written(topic: string, count: number) {
  const records = (await readTopic(topic, count)).sort((a, b) => a.offset - b.offset);
  expect(records).toHaveLength(count);
  return records;
}

async function expectDecoded(format: SchemaFormat, bytes: Buffer[], schemaId: number, values: unknown[]) {
  const decoded = await decodeWithPython(registryUrl(), format, bytes);
  expect(decoded.map((d) => d.schema_id)).toEqual(bytes.map(() => schemaId));
  expect(decoded.map((d) => comparable(d.value))).toEqual(values.map(comparable));
}

describe.each(FORMATS)("v2 produce, %s", (format) => {
  const records = RECORDS[format];
  const decodedKeys = records.map((r) => r.key);

  it("registers inline schemas under <topic>-key and <topic>-value and writes the wire format", async () => {
    const topic = await createTopic(unique(`sch-${format}-inline`), 1);
    const res = expectProduced(
      await produceSchemaV2(topic, format, {
        key_schema: KEY_SCHEMA[format],
        value_schema: VALUE_SCHEMA[format],
        records,
      }),
      records.length,
    );
    expect(Object.keys(res.json)).toEqual(["offsets", "key_schema_id", "value_schema_id"]);
    expect(res.json.offsets).toEqual(
      records.map((_, offset) => ({ partition: 0, offset, error_code: null, error: null })),
    );
    const keyId = res.json.key_schema_id as number;
    const valueId = res.json.value_schema_id as number;
    expect(Number.isInteger(keyId) && Number.isInteger(valueId)).toBe(true);
    expect(keyId).not.toBe(valueId);

    const read = await written(topic, records.length);
    expect(read.map((r) => wireSchemaId(r.key))).toEqual(records.map(() => keyId));
    expect(read.map((r) => wireSchemaId(r.value))).toEqual(records.map(() => valueId));
    await expectDecoded(
      format,
      read.map((r) => r.value as Buffer),
      valueId,
      DECODED_VALUES[format],
    );
    await expectDecoded(
      format,
      read.map((r) => r.key as Buffer),
      keyId,
      decodedKeys,
    );

    expect((await lookUp(`${topic}-value`, format, VALUE_SCHEMA[format]))?.id).toBe(valueId);
    expect((await lookUp(`${topic}-key`, format, KEY_SCHEMA[format]))?.id).toBe(keyId);
    expect(await subjectsOfId(valueId)).toContainEqual({ subject: `${topic}-value`, version: 1 });
    expect(await subjectsOfId(keyId)).toContainEqual({ subject: `${topic}-key`, version: 1 });
  });

  it("finds an inline schema already registered instead of registering a new version", async () => {
    const topic = await createTopic(unique(`sch-${format}-again`), 1);
    const body = { value_schema: VALUE_SCHEMA[format], records: records.map(({ value }) => ({ value })) };
    const first = expectProduced(await produceSchemaV2(topic, format, body), records.length);
    const second = expectProduced(await produceSchemaV2(topic, format, body), records.length);
    expect(second.json.value_schema_id).toBe(first.json.value_schema_id);
    expect(first.json.key_schema_id).toBeNull();
    const lookup = await lookUp(`${topic}-value`, format, VALUE_SCHEMA[format]);
    expect(lookup).toEqual({ id: first.json.value_schema_id, version: 1 });

    const read = await written(topic, 2 * records.length);
    expect(read.every((r) => r.key === null)).toBe(true);
    await expectDecoded(
      format,
      read.map((r) => r.value as Buffer),
      first.json.value_schema_id,
      [...DECODED_VALUES[format], ...DECODED_VALUES[format]],
    );
  });

  it("produces with key_schema_id and value_schema_id, to a topic and to a partition", async () => {
    const topic = await createTopic(unique(`sch-${format}-byid`), 2);
    const ids = expectProduced(
      await produceSchemaV2(topic, format, {
        key_schema: KEY_SCHEMA[format],
        value_schema: VALUE_SCHEMA[format],
        records: records.slice(0, 1),
      }),
      1,
    ).json;
    const body = { key_schema_id: ids.key_schema_id, value_schema_id: ids.value_schema_id, records };
    const toTopic = expectProduced(await produceSchemaV2(topic, format, body), records.length);
    expect([toTopic.json.key_schema_id, toTopic.json.value_schema_id]).toEqual([
      ids.key_schema_id,
      ids.value_schema_id,
    ]);
    const toPartition = expectProduced(await produceSchemaV2(topic, format, body, { partition: 1 }), records.length);
    expect(toPartition.json.offsets.map((o: { partition: number }) => o.partition)).toEqual(records.map(() => 1));
    expect(toPartition.json.value_schema_id).toBe(ids.value_schema_id);

    const read = (await readTopic(topic, 1 + 2 * records.length)).filter((r) => r.partition === 1);
    read.sort((a, b) => a.offset - b.offset);
    expect(read.length).toBeGreaterThanOrEqual(records.length);
    const last = read.slice(-records.length);
    expect(last.map((r) => wireSchemaId(r.value))).toEqual(records.map(() => ids.value_schema_id));
    await expectDecoded(
      format,
      last.map((r) => r.value as Buffer),
      ids.value_schema_id,
      DECODED_VALUES[format],
    );
    await expectDecoded(
      format,
      last.map((r) => r.key as Buffer),
      ids.key_schema_id,
      decodedKeys,
    );

    // As REST Proxy (SchemaManagerImpl looks the id's version up under the topic's subject): an id
    // that is not registered under <topic>-value is refused with the registry's 40401 inside 42207.
    const other = await createTopic(unique(`sch-${format}-otherid`), 1);
    const refused = await produceSchemaV2(other, format, { value_schema_id: ids.value_schema_id, records });
    expect([refused.status, refused.json?.error_code], refused.text).toEqual([422, 42207]);
    expect(refused.json.message).toContain(`${other}-value`);
  });

  it("writes a null value as a Kafka null (a tombstone), not as an encoded null", async () => {
    const topic = await createTopic(unique(`sch-${format}-null`), 1);
    const res = expectProduced(
      await produceSchemaV2(topic, format, {
        key_schema: KEY_SCHEMA[format],
        value_schema: VALUE_SCHEMA[format],
        records: [{ key: records[0]?.key, value: null }],
      }),
      1,
    );
    const [record] = await written(topic, 1);
    expect(record?.value).toBeNull();
    expect(wireSchemaId(record?.key ?? null)).toBe(res.json.key_schema_id);
  });
});

describe("schema look-ups are cached", () => {
  it("sends the registry nothing per request or record once a gateway has used a schema", async () => {
    const base = gatewayUrl(1);
    const topic = await createTopic(unique("sch-cache"), 1);
    const records = RECORDS.avro.map(({ value }) => ({ value }));
    const first = expectProduced(
      await produceSchemaV2(topic, "avro", { value_schema: VALUE_SCHEMA.avro, records }, { base }),
      records.length,
    );
    // The first request by id may look the id up once (the schema by id, then its version under the subject).
    const byId = { value_schema_id: first.json.value_schema_id, records };
    expectProduced(await produceSchemaV2(topic, "avro", byId, { base }), records.length);
    const before = await registryRequestCount();
    for (let i = 0; i < 10; i++) {
      const many = Array.from({ length: 50 }, (_, k) => records[k % records.length]);
      expectProduced(
        await produceSchemaV2(topic, "avro", { value_schema: VALUE_SCHEMA.avro, records: many }, { base }),
        50,
      );
      expectProduced(
        await produceSchemaV2(topic, "avro", { value_schema_id: first.json.value_schema_id, records: many }, { base }),
        50,
      );
    }
    // 1,000 records in 20 requests, the schema inline in half of them: not one registry request.
    expect(await registryRequestCount()).toBe(before);

    // Decoding them all: the writer's schema fetched by id at most once per gateway, not per record.
    const consumer = await schemaConsumer(topic, "avro", unique("g"), base);
    try {
      const read = await consumeSchema(consumer, "avro", 2 * records.length + 1000, 60_000);
      expect(read.at(-1)?.value).toEqual(CONSUMED_VALUES.avro[1]);
    } finally {
      await deleteConsumer(consumer);
    }
    expect(await registryRequestCount()).toBeLessThanOrEqual(before + 1);
  });
});
