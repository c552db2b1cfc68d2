/**
 * Bad v2 produce requests in the schema formats: each gets REST Proxy's status and code
 * (docs/api.rst: 42201 key schema missing, 42202 value schema missing, 42205 invalid schema;
 * 42203 a record its schema does not accept), and Kafka holds nothing of it: the topic's end offset
 * is unchanged and a record produced afterwards lands at offset 0.
 */
import { describe, expect, it } from "vitest";
import { createTopic, unique } from "./helpers.ts";
import { expectNothingWritten } from "./produce-helpers.ts";
import { AVRO_ORDERS, JSON_ORDERS, KEY_SCHEMA, PROTOBUF_ORDERS, RECORDS, VALUE_SCHEMA } from "./schemas-fixtures.ts";
import {
  endOffsets,
  expectRefused,
  FORMATS,
  produceSchemaV2,
  registerSchema,
  type SchemaFormat,
  subjectVersions,
} from "./schemas-helpers.ts";

const INVALID_SCHEMAS: Record<SchemaFormat, string[]> = {
  avro: ['{"type":"record","name":"Broken"}', '{"type":"no-such-type"}', "not json at all"],
  jsonschema: ['{"type": 12}', '{"properties": {"a": {"type": "no-such-type"}}}', "{not json"],
  protobuf: ['syntax = "proto3";\nmessage Broken {\n  string a = ;\n}\n', "message {", "not a proto file"],
};

/** Records the format's VALUE_SCHEMA refuses, each with why. */
const BAD_RECORDS: Record<SchemaFormat, Array<[string, unknown]>> = {
  avro: [
    ["a union value without its branch name", { ...AVRO_ORDERS[0], note: "plain string" }],
    ["a symbol the enum does not have", { ...AVRO_ORDERS[0], status: "LOST" }],
    ["a long given as a string", { ...AVRO_ORDERS[0], id: "1" }],
    ["a field missing", { ...AVRO_ORDERS[0], customer: { name: "Ann" } }],
    ["an int out of range", { ...AVRO_ORDERS[0], customer: { name: "Ann", tier: 2 ** 40 } }],
    ["not an object", "just a string"],
  ],
  jsonschema: [
    ["a string where an integer is required", { ...JSON_ORDERS[0], id: "x" }],
    ["a required property missing", { id: 1 }],
    ["a property the schema does not allow", { ...JSON_ORDERS[0], extra: true }],
    ["a nested minimum broken", { ...JSON_ORDERS[0], line: { sku: "A-1", quantity: 0 } }],
    ["not an object", [1, 2]],
  ],
  protobuf: [
    ["a field the message does not have", { ...PROTOBUF_ORDERS[0], no_such_field: 2 }],
    ["an enum name the enum does not have", { ...PROTOBUF_ORDERS[0], status: "LOST" }],
    ["an int64 that is not a number", { ...PROTOBUF_ORDERS[0], id: "abc" }],
    ["a string where a message is required", { ...PROTOBUF_ORDERS[0], line: "A-1" }],
    ["not an object", 42],
  ],
};

const good = (format: SchemaFormat) => RECORDS[format][0] as { key: unknown; value: unknown };

describe.each(FORMATS)("v2 produce in %s refuses bad input and writes nothing", (format) => {
  it("answers values without a value schema with 422 / 42202 and keys without a key schema with 422 / 42201", async () => {
    const topic = await createTopic(unique(`sch-err-${format}-missing`), 1);
    expectRefused(
      await produceSchemaV2(topic, format, { records: [{ value: good(format).value }] }),
      422,
      42202,
      "Request includes values but does not include value schema",
    );
    expectRefused(
      await produceSchemaV2(topic, format, { key_schema: KEY_SCHEMA[format], records: [good(format)] }),
      422,
      42202,
    );
    expectRefused(
      await produceSchemaV2(topic, format, { value_schema: VALUE_SCHEMA[format], records: [good(format)] }),
      422,
      42201,
      "Request includes keys but does not include key schema",
    );
    // One keyed record among unkeyed ones is enough to refuse the whole request.
    const value = good(format).value;
    expectRefused(
      await produceSchemaV2(topic, format, {
        value_schema: VALUE_SCHEMA[format],
        records: [{ value }, { value }, { key: good(format).key, value }],
      }),
      422,
      42201,
    );
    expect(await endOffsets(topic)).toEqual([0]);
    await expectNothingWritten(topic);
  });

  it("answers an invalid schema with 422 / 42205 and registers nothing", async () => {
    const topic = await createTopic(unique(`sch-err-${format}-invalid`), 1);
    for (const schema of INVALID_SCHEMAS[format]) {
      const value = await produceSchemaV2(topic, format, { value_schema: schema, records: [good(format)] });
      expectRefused(value, 422, 42205, /Invalid schema/);
      const key = await produceSchemaV2(topic, format, {
        key_schema: schema,
        value_schema: VALUE_SCHEMA[format],
        records: [good(format)],
      });
      expectRefused(key, 422, 42205, /Invalid schema/);
    }
    expect(await subjectVersions(`${topic}-value`)).toEqual([]);
    expect(await subjectVersions(`${topic}-key`)).toEqual([]);
    expect(await endOffsets(topic)).toEqual([0]);
    await expectNothingWritten(topic);
  });

  it("answers a record its schema does not accept with 422 / 42203, also when the other records are good", async () => {
    const topic = await createTopic(unique(`sch-err-${format}-record`), 1);
    for (const [why, bad] of BAD_RECORDS[format]) {
      const alone = await produceSchemaV2(topic, format, {
        value_schema: VALUE_SCHEMA[format],
        records: [{ value: bad }],
      });
      expect(alone.status, `${why}: ${alone.text}`).toBe(422);
      expectRefused(alone, 422, 42203);
      // The bad record last: the good ones before it must not have been handed to Kafka.
      const mixed = await produceSchemaV2(topic, format, {
        value_schema: VALUE_SCHEMA[format],
        records: [{ value: good(format).value }, { value: good(format).value }, { value: bad }],
      });
      expect(mixed.status, `${why} (mixed): ${mixed.text}`).toBe(422);
      expectRefused(mixed, 422, 42203);
    }
    // A key its key schema refuses.
    const badKey = format === "protobuf" ? { id: 1, other: 2 } : { not: "a string" };
    expectRefused(
      await produceSchemaV2(topic, format, {
        key_schema: KEY_SCHEMA[format],
        value_schema: VALUE_SCHEMA[format],
        records: [good(format), { key: badKey, value: good(format).value }],
      }),
      422,
      42203,
    );
    expect(await endOffsets(topic)).toEqual([0]);
    await expectNothingWritten(topic);
  });

  it("answers a schema id the registry does not have as REST Proxy does (422 / 42207), and writes nothing", async () => {
    const topic = await createTopic(unique(`sch-err-${format}-noid`), 1);
    const missing = 2_000_000_000;
    const value = await produceSchemaV2(topic, format, {
      value_schema_id: missing,
      records: [{ value: good(format).value }],
    });
    // kafka-rest: SchemaManagerImpl turns the registry's 40403 into Errors.messageSerializationException.
    expectRefused(value, 422, 42207, new RegExp(String(missing)));
    const valueId = await registerSchema(`${topic}-value`, format, VALUE_SCHEMA[format]);
    const key = await produceSchemaV2(topic, format, {
      key_schema_id: missing,
      value_schema_id: valueId,
      records: [good(format)],
    });
    expectRefused(key, 422, 42207, new RegExp(String(missing)));
    expect(await endOffsets(topic)).toEqual([0]);
    await expectNothingWritten(topic);
  });

  it("answers malformed JSON and a schema that is not a string with 400 / 422, before any registry call", async () => {
    const topic = await createTopic(unique(`sch-err-${format}-json`), 1);
    const malformed = await produceSchemaV2(
      topic,
      format,
      `{"value_schema": ${JSON.stringify(VALUE_SCHEMA[format])}, "records": [`,
    );
    expectRefused(malformed, 400, 400, /^Malformed JSON/);
    // Wrong JSON types are refused as every other v2 body field is (produce-errors.test.ts).
    const notString = await produceSchemaV2(topic, format, {
      value_schema: { type: "string" },
      records: [{ value: "a" }],
    });
    expectRefused(notString, 400, 400, /value_schema/);
    const badId = await produceSchemaV2(topic, format, { value_schema_id: "seven", records: [{ value: "a" }] });
    expectRefused(badId, 400, 400, /value_schema_id/);
    expect(await subjectVersions(`${topic}-value`)).toEqual([]);
    expect(await endOffsets(topic)).toEqual([0]);
    await expectNothingWritten(topic);
  });
});
