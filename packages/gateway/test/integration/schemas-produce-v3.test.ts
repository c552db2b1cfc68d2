/**
 * v3 produce (one record, streaming, records:batch) with REST Proxy v3's schema fields: `type`
 * AVRO/JSONSCHEMA/PROTOBUF, `schema` (the raw schema), `schema_id`, `schema_version`, `subject`,
 * `subject_name_strategy`. Each report names the subject, id and version as REST Proxy's
 * ProduceResponseData does; what Kafka holds is decoded by Confluent's Python deserializers.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTopic, readTopic, unique } from "./helpers.ts";
import { CLUSTER, expectNothingWritten, openStream, produceV3, reportLines } from "./produce-helpers.ts";
import { AVRO_ORDERS, DECODED_VALUES, KEY_SCHEMA, RECORDS, VALUE_SCHEMA } from "./schemas-fixtures.ts";
import {
  comparable,
  endOffsets,
  FORMATS,
  lookUp,
  registerSchema,
  registryUrl,
  type SchemaFormat,
  V3_TYPE,
  wireSchemaId,
} from "./schemas-helpers.ts";
import { decodeWithPython } from "./wire-decode.ts";

async function decodedValues(topic: string, format: SchemaFormat, count: number) {
  const read = (await readTopic(topic, count)).sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  expect(read).toHaveLength(count);
  const values = await decodeWithPython(
    registryUrl(),
    format,
    read.map((r) => r.value as Buffer),
  );
  return { read, values };
}

/** A uniquely named Avro record, for subjects named after the record (RECORD_NAME strategies). */
function namedAvro(): { schema: string; fullName: string } {
  const name = `Named_${randomUUID().slice(0, 8)}`;
  return {
    schema: JSON.stringify({ type: "record", name, namespace: "wharf.test", fields: [{ name: "n", type: "int" }] }),
    fullName: `wharf.test.${name}`,
  };
}

describe.each(FORMATS)("v3 produce, %s, one record", (format) => {
  it("registers a raw schema under <topic>-key / <topic>-value and reports type, subject, id and version", async () => {
    const topic = await createTopic(unique(`sch-v3-${format}`), 1);
    const [record] = RECORDS[format];
    const res = await produceV3(topic, {
      key: { type: V3_TYPE[format], schema: KEY_SCHEMA[format], data: record?.key },
      value: { type: V3_TYPE[format], schema: VALUE_SCHEMA[format], data: record?.value },
    });
    expect(res.status, res.text).toBe(200);
    const [report] = reportLines(res.text);
    const keyId = (await lookUp(`${topic}-key`, format, KEY_SCHEMA[format]))?.id;
    const valueId = (await lookUp(`${topic}-value`, format, VALUE_SCHEMA[format]))?.id;
    expect(keyId && valueId).toBeTruthy();
    expect(report).toEqual({
      error_code: 200,
      cluster_id: CLUSTER,
      topic_name: topic,
      partition_id: 0,
      offset: 0,
      timestamp: expect.any(String),
      key: {
        type: V3_TYPE[format],
        subject: `${topic}-key`,
        schema_id: keyId,
        schema_version: 1,
        size: expect.any(Number),
      },
      value: {
        type: V3_TYPE[format],
        subject: `${topic}-value`,
        schema_id: valueId,
        schema_version: 1,
        size: expect.any(Number),
      },
    });
    const { read, values } = await decodedValues(topic, format, 1);
    // The size is that of the serialized bytes Kafka holds, wire header included.
    expect((report?.value as { size?: number } | undefined)?.size).toBe(read[0]?.value?.length);
    expect(wireSchemaId(read[0]?.key ?? null)).toBe(keyId);
    expect(values.map((v) => v.schema_id)).toEqual([valueId]);
    expect(values.map((v) => comparable(v.value))).toEqual([comparable(DECODED_VALUES[format][0])]);
  });

  it("produces by schema_id, by schema_version and with the latest schema, its type taken from the registry", async () => {
    const topic = await createTopic(unique(`sch-v3-${format}-ref`), 1);
    const subject = `${topic}-value`;
    const id = await registerSchema(subject, format, VALUE_SCHEMA[format]);
    const data = RECORDS[format][0]?.value;
    const bodies = [
      { value: { schema_id: id, data } },
      { value: { schema_version: 1, data } },
      { value: { subject_name_strategy: "TOPIC_NAME", schema_version: 1, data } },
      // No type and no schema fields: the subject's latest schema, as REST Proxy does.
      { value: { data } },
    ];
    for (const [i, body] of bodies.entries()) {
      const res = await produceV3(topic, body);
      const [report] = reportLines(res.text);
      expect(report, JSON.stringify(body)).toMatchObject({
        error_code: 200,
        offset: i,
        value: { type: V3_TYPE[format], subject, schema_id: id, schema_version: 1 },
      });
    }
    const { values } = await decodedValues(topic, format, bodies.length);
    expect(values.map((v) => v.schema_id)).toEqual(bodies.map(() => id));
    expect(values.map((v) => comparable(v.value))).toEqual(bodies.map(() => comparable(DECODED_VALUES[format][0])));
  });
});

describe("v3 produce, avro subjects", () => {
  it("uses an explicit subject for raw schemas, ids and versions", async () => {
    const topic = await createTopic(unique("sch-v3-subject"), 1);
    const subject = unique("wharf-custom-subject");
    const data = AVRO_ORDERS[0];
    const raw = await produceV3(topic, { value: { type: "AVRO", subject, schema: VALUE_SCHEMA.avro, data } });
    const [first] = reportLines(raw.text);
    const id = (await lookUp(subject, "avro", VALUE_SCHEMA.avro))?.id;
    expect(first).toMatchObject({
      error_code: 200,
      value: { type: "AVRO", subject, schema_id: id, schema_version: 1 },
    });
    // Nothing under the topic's own subject.
    expect(await lookUp(`${topic}-value`, "avro", VALUE_SCHEMA.avro)).toBeNull();
    for (const value of [
      { subject, schema_id: id, data },
      { subject, schema_version: 1, data },
      { subject, data },
    ]) {
      const [report] = reportLines((await produceV3(topic, { value })).text);
      expect(report, JSON.stringify(value)).toMatchObject({
        error_code: 200,
        value: { type: "AVRO", subject, schema_id: id, schema_version: 1 },
      });
    }
    const { values } = await decodedValues(topic, "avro", 4);
    expect(values.map((v) => v.schema_id)).toEqual([id, id, id, id]);
  });

  it("names subjects by RECORD_NAME and TOPIC_RECORD_NAME strategies", async () => {
    const topic = await createTopic(unique("sch-v3-strategy"), 1);
    const { schema, fullName } = namedAvro();
    const byRecord = await produceV3(topic, {
      value: { type: "AVRO", subject_name_strategy: "RECORD_NAME", schema, data: { n: 1 } },
    });
    const [r1] = reportLines(byRecord.text);
    const id = (await lookUp(fullName, "avro", schema))?.id;
    expect(id).toBeTypeOf("number");
    expect(r1).toMatchObject({ error_code: 200, value: { type: "AVRO", subject: fullName, schema_id: id } });

    const byTopicRecord = await produceV3(topic, {
      value: { type: "AVRO", subject_name_strategy: "TOPIC_RECORD_NAME", schema, data: { n: 2 } },
    });
    const [r2] = reportLines(byTopicRecord.text);
    expect(r2).toMatchObject({
      error_code: 200,
      value: { type: "AVRO", subject: `${topic}-${fullName}`, schema_id: id },
    });
    expect((await lookUp(`${topic}-${fullName}`, "avro", schema))?.id).toBe(id);

    // By id with a strategy that needs the schema: the subject comes from the schema the id names.
    const byId = await produceV3(topic, {
      value: { subject_name_strategy: "RECORD_NAME", schema_id: id, data: { n: 3 } },
    });
    expect(reportLines(byId.text)[0]).toMatchObject({ error_code: 200, value: { subject: fullName, schema_id: id } });

    const { values } = await decodedValues(topic, "avro", 3);
    expect(values.map((v) => v.value)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});

describe("v3 produce in schema formats, records:batch and streaming", () => {
  it("answers a batch with 207, a success per good entry and REST Proxy's failure per bad one", async () => {
    const topic = await createTopic(unique("sch-v3-batch"), 1);
    const id = await registerSchema(`${topic}-value`, "avro", VALUE_SCHEMA.avro);
    const [a, b] = AVRO_ORDERS;
    const res = await produceV3(
      topic,
      {
        entries: [
          { id: "raw", value: { type: "AVRO", schema: VALUE_SCHEMA.avro, data: a } },
          { id: "bad-data", value: { type: "AVRO", schema: VALUE_SCHEMA.avro, data: { id: "not a long" } } },
          { id: "by-id", value: { schema_id: id, data: b } },
          { id: "bad-schema", value: { type: "AVRO", schema: '{"type":"record"}', data: a } },
          { id: "no-such-id", value: { schema_id: 2_000_000_000, data: a } },
          { id: "no-such-version", value: { schema_version: 99, data: a } },
        ],
      },
      { batch: true },
    );
    expect(res.status, res.text).toBe(207);
    expect(res.json.successes).toEqual([
      expect.objectContaining({
        id: "raw",
        offset: 0,
        value: expect.objectContaining({ schema_id: id, type: "AVRO" }),
      }),
      expect.objectContaining({ id: "by-id", offset: 1, value: expect.objectContaining({ schema_id: id }) }),
    ]);
    const failures = res.json.failures as Array<{ id: string; error_code: number; message: string }>;
    expect(failures.map((f) => f.id)).toEqual(["bad-data", "bad-schema", "no-such-id", "no-such-version"]);
    for (const f of failures) {
      // REST Proxy: 400 for a record or schema it cannot use, 422 ("Error: 422xx : ...") for its constraint codes.
      expect([400, 422], JSON.stringify(f)).toContain(f.error_code);
      expect(f.message.length).toBeGreaterThan(0);
    }
    expect(failures.find((f) => f.id === "bad-schema")?.message).toMatch(/42205|[Ii]nvalid schema|schema/);
    const { values } = await decodedValues(topic, "avro", 2);
    expect(values.map((v) => comparable(v.value))).toEqual(comparable(DECODED_VALUES.avro));
    expect(await endOffsets(topic)).toEqual([2]);
  });

  it("streams schema records, each report in band, a bad record among good ones writing nothing", async () => {
    const topic = await createTopic(unique("sch-v3-stream"), 1);
    const stream = openStream(topic);
    const [a, b] = AVRO_ORDERS;
    const raw = JSON.stringify({ value: { type: "AVRO", schema: VALUE_SCHEMA.avro, data: a } });
    await stream.write(raw);
    expect((await stream.response).status).toBe(200);
    const first = await stream.next();
    expect(first).toMatchObject({ error_code: 200, offset: 0, value: { type: "AVRO", subject: `${topic}-value` } });
    const id = (first.value as { schema_id: number }).schema_id;
    await stream.write(JSON.stringify({ value: { schema_id: id, data: { ...b, status: "LOST" } } }));
    await stream.write(JSON.stringify({ value: { schema_id: id, data: b } }));
    await stream.write(JSON.stringify({ value: { type: "PROTOBUF", schema: "message {", data: {} } }));
    await stream.write(raw);
    await stream.end();
    const reports = await stream.rest();
    expect(reports.map((r) => r.error_code === 200)).toEqual([false, true, false, true]);
    expect(reports[1]).toMatchObject({ offset: 1, value: { schema_id: id } });
    expect(reports[3]).toMatchObject({ offset: 2, value: { schema_id: id } });
    for (const r of [reports[0], reports[2]]) expect([400, 422]).toContain(r?.error_code);
    const { values } = await decodedValues(topic, "avro", 3);
    expect(values.map((v) => comparable(v.value))).toEqual(
      [DECODED_VALUES.avro[0], DECODED_VALUES.avro[1], DECODED_VALUES.avro[0]].map(comparable),
    );
  });

  it("reports bad schema fields in band and writes nothing", async () => {
    const topic = await createTopic(unique("sch-v3-bad"), 1);
    const data = AVRO_ORDERS[0];
    const cases: unknown[] = [
      { value: { type: "AVRO", data } }, // a schema format without a schema, and no subject to take the latest from
      { value: { type: "AVRO", schema: "not json", data } },
      { value: { type: "AVRO", schema: VALUE_SCHEMA.avro, data: { id: 1 } } },
      { value: { schema_id: 2_000_000_000, data } },
      { value: { schema_version: 7, data } },
      { value: { subject: unique("no-such-subject"), data } },
      { value: { type: "AVRO", subject_name_strategy: "NO_SUCH_STRATEGY", schema: VALUE_SCHEMA.avro, data } },
      { value: { type: "AVRO", schema_id: 1, schema: VALUE_SCHEMA.avro, data } },
      { key: { type: "JSONSCHEMA", schema: '{"type": 12}', data: "k" } },
    ];
    for (const body of cases) {
      const res = await produceV3(topic, body);
      expect(res.status, JSON.stringify(body)).toBe(200);
      const [report, ...more] = reportLines(res.text);
      expect(more).toEqual([]);
      expect(report?.error_code, `${JSON.stringify(body)}: ${res.text}`).not.toBe(200);
      expect([400, 404, 422], `${JSON.stringify(body)}: ${res.text}`).toContain(
        Number(String(report?.error_code).slice(0, 3)),
      );
      expect(Object.keys(report ?? {}).sort()).toEqual(["error_code", "message"]);
    }
    expect(await endOffsets(topic)).toEqual([0]);
    await expectNothingWritten(topic);
  });
});
