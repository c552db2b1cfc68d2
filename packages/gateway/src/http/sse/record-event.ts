/** Server-Sent Events wire text: record events, comments and error events. */
import type { ConsumedMessage } from "../../kafka/consumer-instance.ts";
import type { SchemaFormat, Schemas } from "../../schemas/index.ts";

/**
 * How keys and values appear in an event: the v2 embedded formats (base64 for binary, parsed
 * JSON for json, REST Proxy's JSON of the schema formats), or UTF-8 text (`string`, topic
 * streams only, handy in browsers).
 */
export type StreamFormat = "binary" | "json" | "string" | SchemaFormat;

export const isSchemaFormat = (format: StreamFormat): format is SchemaFormat =>
  format === "avro" || format === "jsonschema" || format === "protobuf";

/** Loads the schemas the records' keys and values name (schema formats only; a no-op otherwise). */
export function prepareRecords(format: StreamFormat, schemas: Schemas | null, messages: ConsumedMessage[]) {
  if (!isSchemaFormat(format) || schemas === null) return Promise.resolve();
  return schemas.prepare(
    format,
    messages.flatMap((m) => [asBuffer(m.key), asBuffer(m.value)]),
  );
}

/** Why a stream ended with an `event: error`; clients branch on `reason`, never on the message. */
export type StreamEndReason = "slow_reader" | "instance_closed" | "illegal_state" | "kafka_error";

const asBuffer = (data: Buffer | string | null | undefined): Buffer | null =>
  data === null || data === undefined ? null : typeof data === "string" ? Buffer.from(data) : data;

function decode(bytes: Buffer | null, format: StreamFormat, schemas: Schemas | null): unknown {
  if (bytes === null) return null;
  if (format === "binary") return bytes.toString("base64");
  if (format === "string") return bytes.toString("utf8");
  if (format === "json") return JSON.parse(bytes.toString("utf8"));
  if (schemas === null) throw new Error(`the ${format} format needs a Schema Registry`);
  return schemas.deserialize(format, bytes);
}

/**
 * The JSON text of one record: v2's record shape plus timestamp and headers (header values in
 * base64, or text in the string format). A key or value that cannot be decoded (not JSON in the
 * json format; not in the wire format or of an unknown schema in a schema format) does not end
 * the stream (a resume would meet it again): it is sent as null with an `error`. Schema formats
 * need prepareRecords first.
 */
export function recordJson(m: ConsumedMessage, format: StreamFormat, schemas: Schemas | null = null): string {
  const record: Record<string, unknown> = { topic: m.topic, key: null, value: null };
  let error: string | undefined;
  const failed = (side: string, cause: unknown) =>
    format === "json" ? `${side} is not valid JSON` : `${side} cannot be decoded: ${(cause as Error).message}`;
  try {
    record.key = decode(asBuffer(m.key), format, schemas);
  } catch (cause) {
    error = failed("key", cause);
  }
  try {
    record.value = decode(asBuffer(m.value), format, schemas);
  } catch (cause) {
    error = failed("value", cause);
  }
  record.partition = m.partition;
  record.offset = m.offset;
  record.timestamp = m.timestamp ?? null;
  record.headers = (m.headers ?? []).flatMap((h) =>
    Object.entries(h).map(([name, value]) => {
      const bytes = asBuffer(value) as Buffer;
      return { name, value: format === "string" ? bytes.toString("utf8") : bytes.toString("base64") };
    }),
  );
  if (error) record.error = error;
  return JSON.stringify(record);
}

/** JSON.stringify never emits a raw line break, so the data always fits one `data:` line. */
export const recordEvent = (id: string, json: string) => `id: ${id}\ndata: ${json}\n\n`;

export const commentLine = (text: string) => `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;

export const errorEvent = (reason: StreamEndReason, message: string) =>
  `event: error\ndata: ${JSON.stringify({ reason, message })}\n\n`;
