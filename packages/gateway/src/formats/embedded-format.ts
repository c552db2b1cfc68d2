/**
 * Confluent's embedded formats: how keys and values travel inside JSON bodies
 * (v2 application/vnd.kafka.{format}.v2+json, v3 `{"type": ..., "data": ...}`).
 */
import { badRequestException, type RestError, schemaRegistryRequired, serializationError } from "../errors.ts";

export const embeddedFormats = ["binary", "json", "avro", "jsonschema", "protobuf"] as const;
export type EmbeddedFormat = (typeof embeddedFormats)[number];

/** Formats that need a schema registry, which Wharf does not talk to yet. */
export const schemaFormats: ReadonlySet<EmbeddedFormat> = new Set(["avro", "jsonschema", "protobuf"]);

/**
 * What REST Proxy answers for a schema format when no schema registry is configured: naming a
 * schema fails the schema lookup (42206), otherwise serializing the first record fails (42207).
 */
export function schemaFormatUnavailable(namesSchema: boolean): RestError {
  return namesSchema
    ? schemaRegistryRequired()
    : serializationError("Schema Registry not defined, no Schema Registry client available to serialize message.");
}

/** JSON rendering of a rejected value for error messages, cut short so a huge body is not echoed back. */
export function renderData(data: unknown): string {
  const text = JSON.stringify(data) ?? "null";
  return text.length > 1024 ? `${text.slice(0, 1024)}...` : text;
}

/**
 * Binary embedded data (v2 binary format, v3 type BINARY), decoded as kafka-rest does with Guava's
 * BaseEncoding.base64(): the standard alphabet only, trailing '=' optional (all of them are
 * trimmed), a length that is never one more than a multiple of 4, unused trailing bits unchecked.
 *
 * Node's decoder is more forgiving: it also takes the URL-safe '-' and '_' and skips anything else
 * outside the alphabet. So the text is decoded first and refused if it holds '-' or '_' or if
 * fewer bytes came out than its length implies (something was skipped). This replaces a regular
 * expression over every character, which cost more than the rest of a binary produce request.
 */
export function decodeBinaryData(data: unknown): Buffer {
  if (typeof data !== "string") throw badRequestException(`data=${renderData(data)} is not a base64 string.`);
  const decoded = decodeLenientBase64(data);
  if (decoded === null) throw badRequestException(`data=${renderData(data)} is not a valid base64 string.`);
  return decoded;
}

/** Guava-lenient base64 (see decodeBinaryData), or null when Guava would refuse the text. */
export function decodeLenientBase64(text: string): Buffer | null {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  if (end % 4 === 1 || text.indexOf("-") !== -1 || text.indexOf("_") !== -1) return null;
  const decoded = Buffer.from(end === text.length ? text : text.slice(0, end), "base64");
  return decoded.length === Math.floor((end * 3) / 4) ? decoded : null;
}

// Jackson's default base64 variant (v3 header values are byte[]): padding is required.
const paddedBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isPaddedBase64(text: string): boolean {
  return paddedBase64.test(text);
}

/** JSON embedded data, serialized as kafka-rest's KafkaJsonSerializer does (compact JSON). */
export function encodeJsonData(data: unknown): Buffer {
  return Buffer.from(JSON.stringify(data));
}

/** Encodes one key or value of a v2 produce record; null or absent means a null key/value. */
export function encodeEmbedded(format: "binary" | "json", data: unknown): Buffer | null {
  if (data === null || data === undefined) return null;
  return format === "binary" ? decodeBinaryData(data) : encodeJsonData(data);
}

/** Decodes a consumed key or value into the embedded format's JSON representation. */
export function decodeEmbedded(format: "binary" | "json", bytes: Buffer | null | undefined): unknown {
  if (bytes === null || bytes === undefined) return null;
  if (format === "binary") return bytes.toString("base64");
  const text = bytes.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    // REST Proxy fails the read (40801) and the record stays at the head forever, so one foreign
    // record (a STRING key from v3 produce, say) blocks the consumer. Wharf hands it over as text.
    return text;
  }
}
