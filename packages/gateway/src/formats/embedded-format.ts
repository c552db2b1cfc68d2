/**
 * Confluent's embedded formats: how keys and values travel inside v2 JSON bodies
 * (application/vnd.kafka.{format}.v2+json).
 */
import { RestError, unprocessable } from "../errors.ts";

export const embeddedFormats = ["binary", "json", "avro", "jsonschema", "protobuf"] as const;
export type EmbeddedFormat = (typeof embeddedFormats)[number];

/** Formats that need a schema registry, which Wharf does not talk to yet. */
export const schemaFormats: ReadonlySet<EmbeddedFormat> = new Set(["avro", "jsonschema", "protobuf"]);

export function schemaFormatUnsupported(format: string): RestError {
  return new RestError(
    415,
    415,
    `Embedded format "${format}" needs a schema registry, which this gateway does not support yet; use binary or json.`,
  );
}

// Java's basic Base64 decoder (what REST Proxy uses) rejects anything outside this alphabet.
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeBase64(data: unknown, field: string): Buffer {
  if (typeof data !== "string" || !base64Pattern.test(data)) {
    throw unprocessable(`Payload error. ${field} is not valid base64.`);
  }
  return Buffer.from(data, "base64");
}

/** Encodes one key or value of a v2 produce record; null or absent means a null key/value. */
export function encodeEmbedded(format: "binary" | "json", data: unknown, field: string): Buffer | null {
  if (data === null || data === undefined) return null;
  return format === "binary" ? decodeBase64(data, field) : Buffer.from(JSON.stringify(data));
}

/** Decodes a consumed key or value into the embedded format's JSON representation. */
export function decodeEmbedded(format: "binary" | "json", bytes: Buffer | null | undefined): unknown {
  if (bytes === null || bytes === undefined) return null;
  if (format === "binary") return bytes.toString("base64");
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new RestError(500, 50002, "Kafka error: record is not valid JSON for the json embedded format");
  }
}
