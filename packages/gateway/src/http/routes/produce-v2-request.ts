/**
 * A v2 produce body, checked as REST Proxy's Jackson and bean validation check it and encoded into
 * records. Pure: no HTTP, no Kafka.
 */
import {
  badRequest,
  constraintViolation,
  invalidPayload,
  invalidSchema,
  partitionNotFound,
  unrecognizedField,
} from "../../errors.ts";
import {
  type EmbeddedFormat,
  encodeEmbedded,
  renderData,
  schemaFormats,
  schemaFormatUnavailable,
} from "../../formats/embedded-format.ts";
import type { OutgoingRecord } from "../../kafka/producer-pool.ts";
import type { ResolvedSchema, SchemaFormat, Schemas } from "../../schemas/index.ts";
import { isObject } from "../json.ts";

export interface V2RequestSpec {
  topic: string;
  /** The partition named in the path, if any. */
  pathPartition: number | null;
  format: EmbeddedFormat;
  maxRecords: number;
}

export function decodeRequest(
  body: unknown,
  { topic, pathPartition, format, maxRecords }: V2RequestSpec,
): OutgoingRecord[] {
  const request = readRequest(body, maxRecords);
  if (schemaFormats.has(format)) throw schemaFormatUnavailable(request.namesSchema);
  return encodeRecords(request.records, topic, pathPartition, format);
}

export interface SchemaRecords {
  records: OutgoingRecord[];
  keySchemaId: number | null;
  valueSchemaId: number | null;
}

/**
 * A v2 produce body of a schema format (avro, jsonschema, protobuf), as REST Proxy's
 * produceWithSchema: the key schema, then the value schema, are found or registered; then every
 * record is serialized before any is handed to the producer, so one bad record writes nothing.
 */
export async function decodeSchemaRequest(
  body: unknown,
  spec: V2RequestSpec,
  schemas: Schemas,
): Promise<SchemaRecords> {
  const request = readRequest(body, spec.maxRecords);
  const format = spec.format as SchemaFormat;
  const side = async (raw: unknown, id: unknown, isKey: boolean): Promise<ResolvedSchema | null> => {
    const schemaId = id === undefined || id === null ? null : integer(id);
    const rawSchema = typeof raw === "string" ? raw : null;
    if (schemaId === null && rawSchema === null) return null;
    // REST Proxy: an id wins; a raw schema is only looked at without one.
    return schemas.resolve(
      spec.topic,
      {
        format: schemaId === null ? format : null,
        rawSchema: schemaId === null ? rawSchema : null,
        schemaId,
        schemaVersion: null,
        subject: null,
        strategy: null,
      },
      isKey,
    );
  };
  const keySchema = await side(request.body.key_schema, request.body.key_schema_id, true);
  const valueSchema = await side(request.body.value_schema, request.body.value_schema_id, false);
  for (const schema of [keySchema, valueSchema]) {
    if (schema !== null && schema.format !== format) {
      throw invalidSchema(`schema ${schema.id} is not a ${format} schema`);
    }
  }
  const records = request.records.map(
    (record, i): OutgoingRecord => ({
      topic: spec.topic,
      partition: recordPartition(record, i, spec.pathPartition),
      key: schemas.serialize(keySchema, record.key, true),
      value: schemas.serialize(valueSchema, record.value, false),
    }),
  );
  return { records, keySchemaId: keySchema?.id ?? null, valueSchemaId: valueSchema?.id ?? null };
}

interface V2Request {
  body: Record<string, unknown>;
  records: Array<Record<string, unknown>>;
  /** Names a key or value schema (schema formats only). */
  namesSchema: boolean;
}

const requestFields: ReadonlySet<string> = new Set([
  "records",
  "key_schema",
  "key_schema_id",
  "value_schema",
  "value_schema_id",
]);
const recordFields: ReadonlySet<string> = new Set(["key", "value", "partition"]);

/** A Java Integer as Jackson reads it: a JSON integer or a string of digits. */
const integer = (value: unknown): number | null => {
  const n = typeof value === "string" && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && Math.abs(n) < 2 ** 31 ? n : null;
};

/**
 * Checks the body as REST Proxy's Jackson and bean validation do: type mismatches are 400,
 * unknown fields and an empty or missing `records` are 422 / 422.
 */
function readRequest(body: unknown, maxRecords: number): V2Request {
  if (body === undefined || body === null) throw constraintViolation("The request body must not be null (was null)");
  if (!isObject(body)) throw badRequest(`Cannot deserialize ProduceRequest from ${renderData(body)}.`);
  for (const field of Object.keys(body)) {
    if (!requestFields.has(field)) throw unrecognizedField(field);
  }
  for (const field of ["key_schema", "value_schema"]) {
    const v = body[field];
    if (v !== undefined && v !== null && typeof v !== "string") throw badRequest(`${field} must be a string.`);
  }
  for (const field of ["key_schema_id", "value_schema_id"]) {
    const v = body[field];
    if (v !== undefined && v !== null && integer(v) === null) throw badRequest(`${field} must be an integer.`);
  }
  const records = body.records ?? [];
  if (!Array.isArray(records)) throw badRequest(`records must be an array, got ${renderData(records)}.`);
  records.forEach((record, i) => {
    if (!isObject(record)) throw badRequest(`records[${i}] must be an object, got ${renderData(record)}.`);
    for (const field of Object.keys(record)) {
      if (!recordFields.has(field)) throw unrecognizedField(field);
    }
  });
  if (records.length === 0) throw constraintViolation("records must not be empty (was [])");
  // Wharf's own limit (produce.max.records.per.request); REST Proxy has none.
  if (records.length > maxRecords) {
    throw invalidPayload(`At most ${maxRecords} records per request, got ${records.length}.`);
  }
  const namesSchema = ["key_schema", "key_schema_id", "value_schema", "value_schema_id"].some(
    (field) => body[field] !== undefined && body[field] !== null,
  );
  return { body, records: records as Array<Record<string, unknown>>, namesSchema };
}

function encodeRecords(
  records: Array<Record<string, unknown>>,
  topic: string,
  pathPartition: number | null,
  format: EmbeddedFormat,
): OutgoingRecord[] {
  return records.map(
    (record, i): OutgoingRecord => ({
      topic,
      partition: recordPartition(record, i, pathPartition),
      key: encodeEmbedded(format as "binary" | "json", record.key),
      value: encodeEmbedded(format as "binary" | "json", record.value),
    }),
  );
}

function recordPartition(record: Record<string, unknown>, i: number, pathPartition: number | null): number | null {
  if (record.partition === undefined || record.partition === null) return pathPartition;
  const p = integer(record.partition);
  if (p === null) throw badRequest(`records[${i}].partition must be an integer, got ${renderData(record.partition)}.`);
  // Deliberate deviation: a negative partition is a 500 in REST Proxy (ProducerRecord throws).
  if (p < 0) throw partitionNotFound();
  // Kept Confluent quirk: a record's own partition wins over the one in the path.
  return p;
}
