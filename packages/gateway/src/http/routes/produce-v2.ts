/**
 * REST Proxy v2 produce: POST /topics/{topic} and /topics/{topic}/partitions/{partition}.
 * Records are encoded before anything is queued, so a bad record fails the whole request
 * without writing any of it.
 */
import { type Context, Hono } from "hono";
import type { GatewayConfig } from "../../config.ts";
import {
  badRequest,
  constraintViolation,
  ErrorCode,
  invalidPayload,
  partitionNotFound,
  topicNotFound,
  unrecognizedField,
} from "../../errors.ts";
import {
  type EmbeddedFormat,
  encodeEmbedded,
  renderData,
  schemaFormats,
  schemaFormatUnavailable,
} from "../../formats/embedded-format.ts";
import { v2RecordErrorCode } from "../../kafka/delivery-errors.ts";
import type { DeliveryResult, OutgoingRecord, ProducerPool } from "../../kafka/producer-pool.ts";
import { readJsonBody } from "../body.ts";
import { isObject } from "../json.ts";
import { embeddedFormatOfContentType, negotiate, v2ProduceResponseTypes } from "../media-types.ts";
import { parsePartition } from "../params.ts";

interface Deps {
  config: GatewayConfig;
  producers: ProducerPool;
}

export function produceV2Routes({ config, producers }: Deps): Hono {
  const app = new Hono();

  const produce = async (c: Context) => {
    const topic = c.req.param("topic") as string;
    const format = embeddedFormatOfContentType(c);
    const responseType = negotiate(c, v2ProduceResponseTypes);
    const rawPartition = c.req.param("partition");
    const pathPartition = rawPartition === undefined ? null : parsePartition(rawPartition);
    // The parsed body dies inside decodeRequest: only the encoded records live across the awaits.
    const records = decodeRequest(
      await readJsonBody(c, config.http.maxBodyBytes, { exactNumbers: format !== "binary" }),
      { topic, pathPartition, format, maxRecords: config.produce.maxRecordsPerRequest },
    );

    // Deliberate deviation: REST Proxy's producer waits max.block.ms (60 s) for an unknown topic,
    // then answers 200 with 50003 for every record. Wharf answers 404 / 40401 at once.
    const partitions = await producers.partitionCount(topic);
    if (partitions === null) throw topicNotFound(topic);
    // Deliberate deviation: a partition out of range is a whole-request 500 / 50002 ("Invalid
    // partition given with record") in REST Proxy; Wharf answers 404 / 40402, writing nothing.
    if (records.some((r) => r.partition !== null && r.partition >= partitions)) {
      const fresh = await producers.partitionCount(topic, true);
      if (fresh === null) throw topicNotFound(topic);
      if (records.some((r) => r.partition !== null && r.partition >= fresh)) throw partitionNotFound();
    }

    const results = await producers.send(records);
    return c.body(JSON.stringify(toV2Response(results)), v2Status(results), { "content-type": responseType });
  };

  app.post("/topics/:topic", produce);
  app.post("/topics/:topic/partitions/:partition", produce);
  return app;
}

function decodeRequest(
  body: unknown,
  {
    topic,
    pathPartition,
    format,
    maxRecords,
  }: { topic: string; pathPartition: number | null; format: EmbeddedFormat; maxRecords: number },
): OutgoingRecord[] {
  const request = readRequest(body, maxRecords);
  if (schemaFormats.has(format)) throw schemaFormatUnavailable(request.namesSchema);
  return encodeRecords(request.records, topic, pathPartition, format);
}

interface V2Request {
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
  return { records: records as Array<Record<string, unknown>>, namesSchema };
}

function encodeRecords(
  records: Array<Record<string, unknown>>,
  topic: string,
  pathPartition: number | null,
  format: EmbeddedFormat,
): OutgoingRecord[] {
  return records.map((record, i): OutgoingRecord => {
    let partition = pathPartition;
    if (record.partition !== undefined && record.partition !== null) {
      const p = integer(record.partition);
      if (p === null)
        throw badRequest(`records[${i}].partition must be an integer, got ${renderData(record.partition)}.`);
      // Deliberate deviation: a negative partition is a 500 in REST Proxy (ProducerRecord throws).
      if (p < 0) throw partitionNotFound();
      // Kept Confluent quirk: a record's own partition wins over the one in the path.
      partition = p;
    }
    return {
      topic,
      partition,
      key: encodeEmbedded(format as "binary" | "json", record.key),
      value: encodeEmbedded(format as "binary" | "json", record.value),
    };
  });
}

function toV2Response(results: DeliveryResult[]) {
  return {
    offsets: results.map((r) =>
      r.ok
        ? { partition: r.partition, offset: r.offset, error_code: null, error: null }
        : { partition: null, offset: null, error_code: v2RecordErrorCode(r.error), error: r.error.message },
    ),
    key_schema_id: null,
    value_schema_id: null,
  };
}

/**
 * REST Proxy's ProduceResponse#getRequestStatus: the first record that failed authentication
 * (401) or authorization (403) sets the status; any other failure leaves it at 200.
 */
function v2Status(results: DeliveryResult[]): 200 | 401 | 403 {
  for (const r of results) {
    if (r.ok) continue;
    const code = v2RecordErrorCode(r.error);
    if (code === ErrorCode.Unauthenticated) return 401;
    if (code === ErrorCode.Forbidden) return 403;
  }
  return 200;
}
