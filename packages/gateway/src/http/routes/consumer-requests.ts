/** Validation of v2 consumer request bodies into typed values, with Confluent's error codes. */
import type { GatewayConfig } from "../../config.ts";
import { ErrorCode, RestError } from "../../errors.ts";
import type { ConsumerSettings, TopicPartition, TopicPartitionOffset } from "../../kafka/consumer-instance.ts";
import { isObject } from "../json.ts";

const unprocessable = (message: string, code: number = 422) => new RestError(422, code, message);
const invalidConfig = (message: string) =>
  new RestError(422, ErrorCode.InvalidConsumerConfig, `Invalid consumer configuration: ${message}`);

const createFields = new Set([
  "name",
  "id",
  "format",
  "auto.offset.reset",
  "auto.commit.enable",
  "fetch.min.bytes",
  "responseMinBytes",
  "consumer.request.timeout.ms",
  "requestWaitMs",
]);
const offsetResets: Record<string, string> = {
  earliest: "earliest",
  smallest: "earliest",
  latest: "latest",
  largest: "latest",
  none: "error",
};
const MAX_FETCH_MIN_BYTES = 10_000_000;

const hasControlCharacter = (s: string) => [...s].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20);

function rejectUnknownFields(body: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const field of Object.keys(body)) {
    if (!known.has(field)) throw unprocessable(`Unrecognized field: ${field}`);
  }
}

function integerField(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) throw unprocessable(`${field} must be an integer.`);
  return n;
}

export function parseCreateRequest(
  body: unknown,
  group: string,
  config: GatewayConfig,
  generateName: () => string,
): ConsumerSettings {
  const b = body === null || body === undefined ? {} : body;
  if (!isObject(b)) throw unprocessable("The request body must be a JSON object.");
  rejectUnknownFields(b, createFields);

  const name = b.id ?? b.name ?? generateName();
  if (
    typeof name !== "string" ||
    name === "" ||
    name.length > 200 ||
    !/^[^/]+$/.test(name) ||
    hasControlCharacter(name)
  ) {
    throw unprocessable("name must be a non-empty string without '/' or control characters, at most 200 long.");
  }
  const format = String(b.format ?? "binary").toLowerCase();
  if (!["binary", "json", "avro", "jsonschema", "protobuf"].includes(format))
    throw unprocessable("Invalid format type.");
  if (format !== "binary" && format !== "json" && config.schemaRegistry === null) {
    throw unprocessable(`Embedded format "${format}" needs a Schema Registry: set schema.registry.url.`);
  }

  let autoOffsetReset: string | null = null;
  if (b["auto.offset.reset"] !== undefined && b["auto.offset.reset"] !== null) {
    autoOffsetReset = offsetResets[String(b["auto.offset.reset"]).toLowerCase()] ?? null;
    if (autoOffsetReset === null) {
      throw invalidConfig(
        `Invalid value ${b["auto.offset.reset"]} for configuration auto.offset.reset: String must be one of: latest, earliest, none`,
      );
    }
  }
  let autoCommit = true;
  const rawCommit = b["auto.commit.enable"];
  if (rawCommit !== undefined && rawCommit !== null) {
    const text = String(rawCommit).toLowerCase();
    if (text !== "true" && text !== "false") {
      throw invalidConfig(
        `Invalid value ${rawCommit} for configuration enable.auto.commit: Expected value to be either true or false`,
      );
    }
    autoCommit = text === "true";
  }
  const fetchMinBytes = integerField(b["fetch.min.bytes"] ?? b.responseMinBytes, "fetch.min.bytes");
  if (fetchMinBytes !== null && (fetchMinBytes < -1 || fetchMinBytes > MAX_FETCH_MIN_BYTES)) {
    throw unprocessable(
      `Invalid consumer configuration. It does not abide by the constraints: Invalid value ${fetchMinBytes} for configuration fetch.min.bytes: Value must be between -1 and ${MAX_FETCH_MIN_BYTES}`,
      ErrorCode.InvalidConsumerConfigConstraint,
    );
  }
  const requestTimeoutMs = integerField(
    b["consumer.request.timeout.ms"] ?? b.requestWaitMs,
    "consumer.request.timeout.ms",
  );
  if (requestTimeoutMs !== null && (requestTimeoutMs < 0 || requestTimeoutMs > 300_000)) {
    throw unprocessable(
      "consumer.request.timeout.ms must be between 0 and 300000.",
      ErrorCode.InvalidConsumerConfigConstraint,
    );
  }
  return {
    group,
    name,
    format: format as ConsumerSettings["format"],
    autoOffsetReset,
    autoCommit,
    // -1 is Confluent's "disabled"; Wharf then answers as soon as any record is there.
    fetchMinBytes: fetchMinBytes === null || fetchMinBytes < 0 ? null : fetchMinBytes,
    requestTimeoutMs: requestTimeoutMs ?? config.consumer.requestTimeoutMs,
  };
}

function list(body: unknown, field: string, required: boolean): unknown[] {
  if (!isObject(body)) throw unprocessable("The request body must be a JSON object.");
  const value = body[field];
  if (value === undefined || value === null) {
    if (required) throw unprocessable(`${field} must not be null`);
    return [];
  }
  if (!Array.isArray(value)) throw unprocessable(`${field} must be an array.`);
  return value;
}

function topicPartition(item: unknown, where: string): TopicPartition {
  if (!isObject(item) || typeof item.topic !== "string" || item.topic === "") {
    throw unprocessable(`${where}.topic must be a non-empty string.`);
  }
  if (!Number.isInteger(item.partition) || (item.partition as number) < 0) {
    throw unprocessable(`${where}.partition must be a non-negative integer.`);
  }
  return { topic: item.topic, partition: item.partition as number };
}

function offsetOf(item: unknown, where: string): number {
  const offset = (item as Record<string, unknown>).offset;
  if (!Number.isInteger(offset) || (offset as number) < 0)
    throw unprocessable(`${where}.offset must be a non-negative integer.`);
  return offset as number;
}

export function parsePartitions(body: unknown): TopicPartition[] {
  return list(body, "partitions", true).map((p, i) => topicPartition(p, `partitions[${i}]`));
}

export function parseOffsets(body: unknown, required: boolean): TopicPartitionOffset[] {
  return list(body, "offsets", required).map((o, i) => ({
    ...topicPartition(o, `offsets[${i}]`),
    offset: offsetOf(o, `offsets[${i}]`),
  }));
}

export function parseTimestamps(body: unknown): Array<TopicPartition & { timestamp: number }> {
  return list(body, "timestamps", false).map((t, i) => {
    const tp = topicPartition(t, `timestamps[${i}]`);
    const raw = (t as Record<string, unknown>).timestamp;
    const timestamp = typeof raw === "string" ? Date.parse(raw) : typeof raw === "number" ? raw : Number.NaN;
    if (!Number.isFinite(timestamp)) throw unprocessable(`timestamps[${i}].timestamp must be an ISO-8601 date-time.`);
    return { ...tp, timestamp };
  });
}

export function parseSubscription(
  body: unknown,
): { kind: "topics"; topics: string[] } | { kind: "pattern"; pattern: string } | null {
  if (!isObject(body)) throw unprocessable("The request body must be a JSON object.");
  // As in REST Proxy, a topic list wins over a pattern, and neither is a no-op.
  if (body.topics !== undefined && body.topics !== null) {
    if (!Array.isArray(body.topics) || body.topics.some((t) => typeof t !== "string" || t === "")) {
      throw unprocessable("topics must be an array of non-empty strings.");
    }
    return { kind: "topics", topics: body.topics as string[] };
  }
  if (body.topic_pattern !== undefined && body.topic_pattern !== null) {
    if (typeof body.topic_pattern !== "string" || body.topic_pattern === "") {
      throw unprocessable("topic_pattern must be a non-empty string.");
    }
    try {
      new RegExp(body.topic_pattern);
    } catch {
      throw unprocessable(`topic_pattern is not a valid regular expression: ${body.topic_pattern}`);
    }
    return { kind: "pattern", pattern: body.topic_pattern };
  }
  return null;
}
