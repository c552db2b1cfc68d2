/**
 * v3 produce records (ProduceRequest in REST Proxy's openapi), read in REST Proxy's two steps:
 * `readV3Record` checks shape and types, as Jackson does while deserializing (a 400, or for a
 * records:batch request a whole-request error); `encodeV3Record` then serializes key and value,
 * which fails per record (in-band, or one failure entry of a batch).
 */
import {
  badRequest,
  badRequestException,
  ErrorCode,
  partitionNotFound,
  RestError,
  schemaRegistryRequired,
} from "../../errors.ts";
import { decodeBinaryData, encodeJsonData, isPaddedBase64, renderData } from "../../formats/embedded-format.ts";
import type { DeliveryResult, OutgoingRecord } from "../../kafka/producer-pool.ts";
import type { ResolvedSchema } from "../../schemas/index.ts";
import type { SubjectNameStrategy } from "../../schemas/settings.ts";
import { isObject, rawNumberText } from "../json.ts";

export type V3DataType = "BINARY" | "JSON" | "STRING";
const dataTypes: ReadonlySet<string> = new Set<V3DataType>(["BINARY", "JSON", "STRING"]);
const schemaTypes: ReadonlySet<string> = new Set(["AVRO", "JSONSCHEMA", "PROTOBUF"]);
const strategies: ReadonlySet<string> = new Set(["TOPIC_NAME", "RECORD_NAME", "TOPIC_RECORD_NAME"]);

const recordFields: ReadonlySet<string> = new Set(["partition_id", "headers", "key", "value", "timestamp"]);
const batchEntryFields: ReadonlySet<string> = new Set([...recordFields, "id"]);
const dataFields: ReadonlySet<string> = new Set([
  "type",
  "subject",
  "subject_name_strategy",
  "schema_id",
  "schema_version",
  "schema",
  "data",
]);
const headerFields: ReadonlySet<string> = new Set(["name", "value"]);

/** A key or value as read: its shape is checked, its data not yet serialized. */
export interface V3Data {
  type: string | null;
  data: unknown;
  /** The schema fields (schema types, or no type: the registry's latest schema of the subject). */
  subject: string | null;
  strategy: SubjectNameStrategy | null;
  schemaId: number | null;
  schemaVersion: number | null;
  rawSchema: string | null;
}

export interface V3Request {
  partition: number | null;
  headers: Array<{ name: string; value: Buffer | null }>;
  key: V3Data | null;
  value: V3Data | null;
  timestamp: number | null;
}

export type V3SchemaType = "AVRO" | "JSONSCHEMA" | "PROTOBUF";

export interface V3Record extends OutgoingRecord {
  /** The key's and value's type as the response reports it; null when no key/value object was sent. */
  keyType: V3DataType | V3SchemaType | null;
  valueType: V3DataType | V3SchemaType | null;
  /** The schemas the key and value were serialized with (schema types only). */
  keySchema?: ResolvedSchema | null;
  valueSchema?: ResolvedSchema | null;
}

/** True when the key or value needs the Schema Registry: a schema type, or no type at all. */
export const needsSchemas = (request: V3Request) =>
  [request.key, request.value].some((d) => d !== null && (d.type === null || !dataTypes.has(d.type)));

/**
 * A field Jackson does not know. In a streaming request it is an in-band 400; a records:batch
 * request answers it with 422 `Unrecognized field: <name>` as a whole (see produce-v3.ts).
 */
export class UnrecognizedFieldError extends RestError {
  readonly field: string;

  constructor(field: string, where: string) {
    super(400, ErrorCode.BadRequest, `Unrecognized field "${field}" (class ${where}), not marked as ignorable`);
    this.field = field;
  }
}

const rejectUnknown = (input: Record<string, unknown>, known: ReadonlySet<string>, where: string) => {
  for (const field of Object.keys(input)) {
    if (!known.has(field)) throw new UnrecognizedFieldError(field, where);
  }
};

const INT32_MAX = 2 ** 31 - 1;

/** A Java Integer as Jackson reads it: a JSON integer or a string of digits; null when absent. */
function optionalInt(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === "string" && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || Math.abs(n) > INT32_MAX) {
    throw badRequest(`${field} must be an integer, got ${renderData(value)}.`);
  }
  return n;
}

function optionalString(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw badRequest(`${field} must be a string, got ${renderData(value)}.`);
  return value;
}

/** The checks of REST Proxy's ProduceRequestData builder, with its messages. */
function checkSchemaFields(type: string | null, f: Record<string, unknown>): void {
  const has = (name: string) => f[name] !== null && f[name] !== undefined;
  if (has("subject_name_strategy") && has("subject")) {
    throw badRequest("Only one of 'subject_name_strategy' or 'subject' can be used.");
  }
  if (has("schema_id") ? has("schema_version") || has("schema") : has("schema_version") && has("schema")) {
    throw badRequest("Only one of 'schema_id', 'schema_version' or 'schema' can be used.");
  }
  if (type === null) return;
  if (schemaTypes.has(type)) {
    if (has("schema_id")) throw badRequest(`'schema_id=${f.schema_id}' cannot be used with 'serializer'.`);
    if (has("schema_version")) {
      throw badRequest(`'schema_version=${f.schema_version}' cannot be used with 'serializer'.`);
    }
    if (!has("schema")) throw badRequest("'schema_version=latest' cannot be used with 'serializer'.");
    return;
  }
  const labels: Array<[string, string]> = [
    ["subject_name_strategy", "subject_strategy"],
    ["subject", "subject"],
    ["schema_id", "schema_id"],
    ["schema_version", "schema_version"],
    ["schema", "schema"],
  ];
  for (const [name, label] of labels) {
    if (has(name)) throw badRequest(`'type=${type}' cannot be used with '${label}'.`);
  }
}

function readData(input: unknown, field: string): V3Data | null {
  if (input === null || input === undefined) return null;
  if (!isObject(input))
    throw badRequest(`${field} must be an object with "type" and "data", got ${renderData(input)}.`);
  rejectUnknown(input, dataFields, "ProduceRequestData");
  const type = optionalString(input.type, `${field}.type`);
  if (type !== null && !dataTypes.has(type) && !schemaTypes.has(type)) {
    throw badRequest(`${field}.type must be one of BINARY, JSON, STRING, AVRO, JSONSCHEMA, PROTOBUF, got "${type}".`);
  }
  const subject = optionalString(input.subject, `${field}.subject`);
  const rawSchema = optionalString(input.schema, `${field}.schema`);
  const schemaId = optionalInt(input.schema_id, `${field}.schema_id`);
  const schemaVersion = optionalInt(input.schema_version, `${field}.schema_version`);
  const strategy = optionalString(input.subject_name_strategy, `${field}.subject_name_strategy`);
  if (strategy !== null && !strategies.has(strategy)) {
    throw badRequest(`${field}.subject_name_strategy must be TOPIC_NAME, RECORD_NAME or TOPIC_RECORD_NAME.`);
  }
  checkSchemaFields(type, input);
  return {
    type,
    data: input.data ?? null,
    subject,
    strategy: strategy as SubjectNameStrategy | null,
    schemaId,
    schemaVersion,
    rawSchema,
  };
}

function readHeaders(input: unknown): V3Request["headers"] {
  if (input === null || input === undefined) return [];
  if (!Array.isArray(input)) throw badRequest(`headers must be an array, got ${renderData(input)}.`);
  return input.map((h, i) => {
    if (!isObject(h)) throw badRequest(`headers[${i}] must be an object with "name" and "value".`);
    rejectUnknown(h, headerFields, "ProduceRequestHeader");
    if (typeof h.name !== "string") throw badRequest(`headers[${i}].name must be a string.`);
    if (h.value === null || h.value === undefined) return { name: h.name, value: null };
    if (typeof h.value !== "string" || !isPaddedBase64(h.value)) {
      throw badRequest(`headers[${i}].value must be a base64 string (with padding), got ${renderData(h.value)}.`);
    }
    return { name: h.name, value: Buffer.from(h.value, "base64") };
  });
}

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Jackson's Instant: an ISO-8601 date-time, or a number of seconds since the epoch. */
function readTimestamp(input: unknown): number | null {
  if (input === null || input === undefined) return null;
  let ms = Number.NaN;
  if (typeof input === "string" && isoInstant.test(input)) ms = Date.parse(input);
  else if (typeof input === "number") ms = Math.round(input * 1000);
  else if (rawNumberText(input) !== null) ms = Math.round(Number(rawNumberText(input)) * 1000);
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15) {
    throw badRequest(`timestamp must be an ISO-8601 date-time after 1970, got ${renderData(input)}.`);
  }
  return ms;
}

/** Reads one record (or records:batch entry, with `id`); throws what Jackson would while deserializing. */
export function readV3Record(input: unknown, batchEntry = false): V3Request {
  const where = batchEntry ? "ProduceBatchRequestEntry" : "ProduceRequest";
  if (!isObject(input))
    throw badRequest(`Cannot deserialize ${where} from ${renderData(input)}: a JSON object is required.`);
  rejectUnknown(input, batchEntry ? batchEntryFields : recordFields, where);
  return {
    partition: optionalInt(input.partition_id, "partition_id"),
    headers: readHeaders(input.headers),
    key: readData(input.key, "key"),
    value: readData(input.value, "value"),
    timestamp: readTimestamp(input.timestamp),
  };
}

export function serialize(data: V3Data | null): { bytes: Buffer | null; type: V3DataType | null } {
  if (data === null) return { bytes: null, type: null };
  // No type (or a schema type) means "look the schema up": REST Proxy never falls back to a
  // format, and without a schema registry that is 42206. (A schema field with BINARY, JSON or
  // STRING was refused by checkSchemaFields already.)
  if (data.type === null || !dataTypes.has(data.type)) throw schemaRegistryRequired();
  const type = data.type as V3DataType;
  if (data.data === null) return { bytes: null, type };
  switch (type) {
    case "BINARY":
      return { bytes: decodeBinaryData(data.data), type };
    case "STRING":
      if (typeof data.data !== "string") throw badRequestException(`data=${renderData(data.data)} is not a string.`);
      return { bytes: Buffer.from(data.data, "utf8"), type };
    case "JSON":
      return { bytes: encodeJsonData(data.data), type };
  }
}

/** Serializes a record read by readV3Record, in REST Proxy's order: partition, key, value. */
export function encodeV3Record(request: V3Request, topic: string): V3Record {
  if (request.partition !== null && request.partition < 0) throw partitionNotFound();
  return v3Record(request, topic, serialize(request.key), serialize(request.value));
}

/** The record to produce from a request and its serialized key and value (with or without schemas). */
export function v3Record(
  request: V3Request,
  topic: string,
  key: { bytes: Buffer | null; type: V3Record["keyType"] },
  value: { bytes: Buffer | null; type: V3Record["valueType"] },
): V3Record {
  return {
    topic,
    partition: request.partition,
    key: key.bytes,
    value: value.bytes,
    headers: request.headers,
    timestamp: request.timestamp,
    keyType: key.type,
    valueType: value.type,
  };
}

/** Java's Instant.toString(), which REST Proxy's Jackson writes: no fraction when it is zero. */
const formatInstant = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
// Records acknowledged together mostly share their millisecond; formatting was 2% of streaming CPU.
let lastInstant = { ms: Number.NaN, text: "" };
const instant = (ms: number) => {
  if (ms !== lastInstant.ms) lastInstant = { ms, text: formatInstant(ms) };
  return lastInstant.text;
};

/** One record's report: REST Proxy's ProduceResponse, which leaves out what it does not know. */
export function v3Result(clusterId: string, record: V3Record, result: DeliveryResult) {
  if (!result.ok) return { error_code: result.error.errorCode, message: result.error.message };
  return {
    error_code: 200,
    cluster_id: clusterId,
    topic_name: record.topic,
    partition_id: result.partition,
    offset: result.offset,
    ...(result.timestamp === null ? {} : { timestamp: instant(result.timestamp) }),
    // A null key or value has the size -1, as Kafka's RecordMetadata reports it.
    ...(record.keyType === null ? {} : { key: resultData(record.keyType, record.keySchema, record.key) }),
    ...(record.valueType === null ? {} : { value: resultData(record.valueType, record.valueSchema, record.value) }),
  };
}

/** REST Proxy's ProduceResponseData: the schema's subject, id and version for the schema types. */
const resultData = (type: string, schema: ResolvedSchema | null | undefined, bytes: Buffer | null) =>
  schema
    ? {
        type,
        subject: schema.subject,
        schema_id: schema.id,
        schema_version: schema.version,
        size: bytes?.length ?? -1,
      }
    : { type, size: bytes?.length ?? -1 };

/**
 * An in-band error (streaming report or records:batch failure), as REST Proxy's StreamingResponse
 * maps it: a constraint violation (422 with a specific code) keeps 422 and moves its code into
 * the message, `Error: 42206 : ...`, whole (a registry's refusal follows on its second line, as
 * REST Proxy's mapper keeps it); any other message stops at its first line.
 */
export function v3Error(error: unknown): { error_code: number; message: string } {
  if (!(error instanceof RestError)) return { error_code: ErrorCode.Internal, message: "Internal Server Error" };
  if (error.status === 422 && error.errorCode !== 422) {
    return { error_code: 422, message: `Error: ${error.errorCode} : ${error.message}` };
  }
  return { error_code: error.errorCode, message: error.message.split("\n", 1)[0] as string };
}
