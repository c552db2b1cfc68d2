/**
 * Schema evolution through the gateway, per format, under the registry's default BACKWARD
 * compatibility: a compatible new schema is registered as the subject's next version (a new id)
 * and its records decode with it; an incompatible one is refused as REST Proxy refuses it
 * (kafka-rest's SchemaManagerImpl turns the registry's 409 into 422 / 42207 and keeps the registry's
 * message) and nothing is written.
 */
import { describe, expect, it } from "vitest";
import { createTopic, readTopic, unique } from "./helpers.ts";
import { produceV3, reportLines } from "./produce-helpers.ts";
import {
  endOffsets,
  expectProduced,
  expectRefused,
  FORMATS,
  produceSchemaV2,
  registryUrl,
  type SchemaFormat,
  subjectVersions,
  V3_TYPE,
  wireSchemaId,
} from "./schemas-helpers.ts";
import { decodeWithPython } from "./wire-decode.ts";

interface Evolution {
  v1: string;
  v1Value: unknown;
  compatible: string;
  compatibleValue: unknown;
  /** What a decoder gives for compatibleValue. */
  compatibleDecoded: unknown;
  incompatible: string;
  incompatibleValue: unknown;
}

const EVOLUTIONS: Record<SchemaFormat, Evolution> = {
  avro: {
    v1: JSON.stringify({
      type: "record",
      name: "Evo",
      namespace: "wharf.test",
      fields: [{ name: "id", type: "long" }],
    }),
    v1Value: { id: 1 },
    // A new field with a default: the new schema reads old records (BACKWARD).
    compatible: JSON.stringify({
      type: "record",
      name: "Evo",
      namespace: "wharf.test",
      fields: [
        { name: "id", type: "long" },
        { name: "note", type: "string", default: "none" },
      ],
    }),
    compatibleValue: { id: 2, note: "added" },
    compatibleDecoded: { id: 2, note: "added" },
    // A new field without a default: old records cannot be read with it.
    incompatible: JSON.stringify({
      type: "record",
      name: "Evo",
      namespace: "wharf.test",
      fields: [
        { name: "id", type: "long" },
        { name: "required_now", type: "string" },
      ],
    }),
    incompatibleValue: { id: 3, required_now: "x" },
  },
  jsonschema: {
    // Closed content models: adding an optional property is compatible in Confluent's rules too.
    v1: JSON.stringify({
      type: "object",
      properties: { id: { type: "integer" } },
      required: ["id"],
      additionalProperties: false,
    }),
    v1Value: { id: 1 },
    compatible: JSON.stringify({
      type: "object",
      properties: { id: { type: "integer" }, note: { type: "string" } },
      required: ["id"],
      additionalProperties: false,
    }),
    compatibleValue: { id: 2, note: "added" },
    compatibleDecoded: { id: 2, note: "added" },
    // A new required property: old records without it are not valid under the new schema.
    incompatible: JSON.stringify({
      type: "object",
      properties: { id: { type: "integer" }, required_now: { type: "string" } },
      required: ["id", "required_now"],
      additionalProperties: false,
    }),
    incompatibleValue: { id: 3, required_now: "x" },
  },
  protobuf: {
    v1: 'syntax = "proto3";\npackage wharf.test;\n\nmessage Evo {\n  int64 id = 1;\n}\n',
    v1Value: { id: 1 },
    compatible: 'syntax = "proto3";\npackage wharf.test;\n\nmessage Evo {\n  int64 id = 1;\n  string note = 2;\n}\n',
    compatibleValue: { id: 2, note: "added" },
    compatibleDecoded: { id: "2", note: "added" },
    // The same field number with another type.
    incompatible: 'syntax = "proto3";\npackage wharf.test;\n\nmessage Evo {\n  string id = 1;\n}\n',
    incompatibleValue: { id: "three" },
  },
};

describe.each(FORMATS)("schema evolution, %s", (format) => {
  const evo = EVOLUTIONS[format];

  it("registers a compatible schema as version 2 and refuses an incompatible one with the registry's answer", async () => {
    const topic = await createTopic(unique(`sch-evo-${format}`), 1);
    const subject = `${topic}-value`;
    const first = expectProduced(
      await produceSchemaV2(topic, format, { value_schema: evo.v1, records: [{ value: evo.v1Value }] }),
      1,
    );
    const second = expectProduced(
      await produceSchemaV2(topic, format, { value_schema: evo.compatible, records: [{ value: evo.compatibleValue }] }),
      1,
    );
    expect(second.json.value_schema_id).not.toBe(first.json.value_schema_id);
    expect(await subjectVersions(subject)).toEqual([1, 2]);

    const refused = await produceSchemaV2(topic, format, {
      value_schema: evo.incompatible,
      records: [{ value: evo.incompatibleValue }],
    });
    expectRefused(refused, 422, 42207, /incompatible/i);
    // v3 reports the same refusal in band; REST Proxy's StreamingResponse keeps only the message's
    // first line, so the registry's own words (after a newline) are not in it.
    const v3 = await produceV3(topic, {
      value: { type: V3_TYPE[format], schema: evo.incompatible, data: evo.incompatibleValue },
    });
    expect(v3.status).toBe(200);
    const [report] = reportLines(v3.text);
    expect(report?.error_code, v3.text).toBe(422);
    expect(report?.message).toMatch(/^Error: 42207 : Error serializing message\. Error when registering schema/);

    expect(await subjectVersions(subject)).toEqual([1, 2]);
    expect(await endOffsets(topic)).toEqual([2]);
    const read = (await readTopic(topic, 2)).sort((a, b) => a.offset - b.offset);
    expect(read.map((r) => wireSchemaId(r.value))).toEqual([first.json.value_schema_id, second.json.value_schema_id]);
    const decoded = await decodeWithPython(
      registryUrl(),
      format,
      read.map((r) => r.value as Buffer),
    );
    expect(decoded.map((d) => d.value)).toEqual([
      format === "protobuf" ? { id: "1" } : evo.v1Value,
      evo.compatibleDecoded,
    ]);
  });

  it("keeps producing with the old schema's id after the subject moved on", async () => {
    const topic = await createTopic(unique(`sch-evo-${format}-old`), 1);
    const first = expectProduced(
      await produceSchemaV2(topic, format, { value_schema: evo.v1, records: [{ value: evo.v1Value }] }),
      1,
    );
    expectProduced(
      await produceSchemaV2(topic, format, { value_schema: evo.compatible, records: [{ value: evo.compatibleValue }] }),
      1,
    );
    const old = expectProduced(
      await produceSchemaV2(topic, format, {
        value_schema_id: first.json.value_schema_id,
        records: [{ value: evo.v1Value }],
      }),
      1,
    );
    expect(old.json.value_schema_id).toBe(first.json.value_schema_id);
    const read = (await readTopic(topic, 3)).sort((a, b) => a.offset - b.offset);
    expect(wireSchemaId(read[2]?.value ?? null)).toBe(first.json.value_schema_id);
  });
});
