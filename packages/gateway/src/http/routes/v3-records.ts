/** Parsing v3 produce records (ProduceRequest in Confluent's openapi) and shaping their results. */
import { ErrorCode, RestError, unprocessable } from "../../errors.ts";
import { decodeBase64 } from "../../formats/embedded-format.ts";
import type { DeliveryResult, OutgoingRecord } from "../../kafka/producer-pool.ts";
import { isObject } from "../body.ts";

export type V3DataType = "BINARY" | "JSON" | "STRING";

export interface V3Record extends OutgoingRecord {
  keyType: V3DataType | null;
  valueType: V3DataType | null;
}

const schemaFields = ["schema", "schema_id", "schema_version", "subject", "subject_name_strategy"];

function encodeData(data: unknown, field: string): { bytes: Buffer | null; type: V3DataType | null } {
  if (data === null || data === undefined) return { bytes: null, type: null };
  if (!isObject(data)) throw unprocessable(`Payload error. ${field} must be an object with "type" and "data".`);
  if (schemaFields.some((f) => data[f] !== undefined && data[f] !== null)) {
    throw unprocessable(
      `Payload error. ${field}: schemas need a schema registry, which this gateway does not support yet.`,
    );
  }
  // Without a schema registry Confluent serializes an untyped value as JSON; so does Wharf.
  const type = (data.type === undefined ? "JSON" : data.type) as string;
  if (data.data === undefined || data.data === null) return { bytes: null, type: type as V3DataType };
  switch (type) {
    case "BINARY":
      return { bytes: decodeBase64(data.data, `${field}.data`), type: "BINARY" };
    case "JSON":
      return { bytes: Buffer.from(JSON.stringify(data.data)), type: "JSON" };
    case "STRING":
      if (typeof data.data !== "string")
        throw unprocessable(`Payload error. ${field}.data must be a string for type STRING.`);
      return { bytes: Buffer.from(data.data, "utf8"), type: "STRING" };
    case "AVRO":
    case "JSONSCHEMA":
    case "PROTOBUF":
      throw unprocessable(
        `Payload error. ${field}: type ${type} needs a schema registry, which this gateway does not support yet.`,
      );
    default:
      throw unprocessable(`Payload error. ${field}.type must be BINARY, JSON or STRING.`);
  }
}

export function parseV3Record(input: unknown, topic: string): V3Record {
  if (!isObject(input)) throw unprocessable("Payload error. A record must be a JSON object.");
  const { partition_id: partition, headers, timestamp } = input;
  if (partition !== undefined && partition !== null && (!Number.isInteger(partition) || (partition as number) < 0)) {
    throw unprocessable("Payload error. partition_id must be a non-negative integer.");
  }
  let parsedHeaders: OutgoingRecord["headers"];
  if (headers !== undefined && headers !== null) {
    if (!Array.isArray(headers)) throw unprocessable("Payload error. headers must be an array.");
    parsedHeaders = headers.map((h, i) => {
      if (!isObject(h) || typeof h.name !== "string" || h.name === "") {
        throw unprocessable(`Payload error. headers[${i}] must have a non-empty string "name".`);
      }
      return {
        name: h.name,
        value: h.value === null || h.value === undefined ? null : decodeBase64(h.value, `headers[${i}].value`),
      };
    });
  }
  let timestampMs: number | null = null;
  if (timestamp !== undefined && timestamp !== null) {
    timestampMs = typeof timestamp === "string" ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(timestampMs)) throw unprocessable("Payload error. timestamp must be an ISO-8601 date-time.");
  }
  const key = encodeData(input.key, "key");
  const value = encodeData(input.value, "value");
  return {
    topic,
    partition: (partition as number | null | undefined) ?? null,
    key: key.bytes,
    value: value.bytes,
    headers: parsedHeaders,
    timestamp: timestampMs,
    keyType: key.type,
    valueType: value.type,
  };
}

export function v3Result(clusterId: string, record: V3Record, result: DeliveryResult) {
  if (!result.ok) return { error_code: result.error.errorCode, message: result.error.message };
  return {
    error_code: 200,
    cluster_id: clusterId,
    topic_name: record.topic,
    partition_id: result.partition,
    offset: result.offset,
    timestamp: result.timestamp === null ? null : new Date(result.timestamp).toISOString(),
    key: record.key === null ? null : { type: record.keyType, size: record.key.length },
    value: record.value === null ? null : { type: record.valueType, size: record.value.length },
  };
}

export function v3Error(error: unknown) {
  if (error instanceof RestError) return { error_code: error.errorCode, message: error.message };
  return { error_code: ErrorCode.Internal, message: "Internal Server Error" };
}
