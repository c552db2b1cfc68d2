/**
 * The body of a v2 records answer in the binary format, written straight into one Buffer.
 *
 * The generic path built an object per record, JSON.stringify'd the array and had the socket
 * encode that string to UTF-8 again: three passes over every value's base64 text. Here each
 * value's base64 is copied once into the body and numbers are written as digits in place; the
 * output is byte for byte what JSON.stringify gave (same fields, same order).
 */
import type { ConsumedMessage } from "../../kafka/consumer-instance.ts";

const ascii = (text: string) => Buffer.from(text, "latin1");
const OPEN_TOPIC = ascii('{"topic":');
const KEY = ascii(',"key":');
const VALUE = ascii(',"value":');
const PARTITION = ascii(',"partition":');
const OFFSET = ascii(',"offset":');
const TIMESTAMP = ascii(',"timestamp":');
const HEADERS = ascii(',"headers":');
const NULL = ascii("null");
const QUOTE = 0x22;
/** The most a number can take as JSON text here (a safe integer is at most 16 digits and a sign). */
const NUMBER_MAX = 24;

const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

type Bytes = Buffer | string | null | undefined;
const asBuffer = (data: Bytes): Buffer | null =>
  data === null || data === undefined ? null : typeof data === "string" ? Buffer.from(data) : data;

/** Renders `messages` as REST Proxy's `[{"topic","key","value","partition","offset"}...]`. */
export function renderBinaryRecords(messages: readonly ConsumedMessage[], withMetadata: boolean): Buffer<ArrayBuffer> {
  // Topic names are ASCII by Kafka's rules, but a JSON string is what JSON.stringify says it is.
  const topics = new Map<string, Buffer>();
  const metadata: (Buffer | null)[] = [];
  let size = 2;
  for (const m of messages) {
    let topic = topics.get(m.topic);
    if (topic === undefined) {
      topic = Buffer.from(JSON.stringify(m.topic));
      topics.set(m.topic, topic);
    }
    const key = asBuffer(m.key);
    size += 1 + OPEN_TOPIC.length + topic.length + KEY.length + VALUE.length + PARTITION.length + OFFSET.length + 1;
    size += (key === null ? NULL.length : base64Length(key.length) + 2) + 2 * NUMBER_MAX;
    size += m.value === null || m.value === undefined ? NULL.length : base64Length(m.value.length) + 2;
    if (withMetadata) {
      const extra = renderMetadata(m);
      metadata.push(extra);
      size += extra.length;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  out[at++] = 0x5b; // [
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ConsumedMessage;
    if (i > 0) out[at++] = 0x2c; // ,
    at = put(out, at, OPEN_TOPIC);
    at = put(out, at, topics.get(m.topic) as Buffer);
    at = put(out, at, KEY);
    at = putBase64(out, at, asBuffer(m.key));
    at = put(out, at, VALUE);
    at = putBase64(out, at, m.value ?? null);
    at = put(out, at, PARTITION);
    at = putNumber(out, at, m.partition);
    at = put(out, at, OFFSET);
    at = putNumber(out, at, m.offset);
    if (withMetadata) at = put(out, at, metadata[i] as Buffer);
    out[at++] = 0x7d; // }
  }
  out[at++] = 0x5d; // ]
  return out.subarray(0, at);
}

/**
 * `,"timestamp":...,"headers":[...]` (a Wharf extension). Header names may be any text, so this
 * part goes through JSON.stringify; it is only built when a client asks for it.
 */
function renderMetadata(m: ConsumedMessage): Buffer {
  const headers = (m.headers ?? []).flatMap((h) =>
    Object.entries(h).map(([name, value]) => ({ name, value: Buffer.from(value).toString("base64") })),
  );
  return Buffer.concat([
    TIMESTAMP,
    Buffer.from(JSON.stringify(m.timestamp ?? null)),
    HEADERS,
    Buffer.from(JSON.stringify(headers)),
  ]);
}

function put(out: Buffer, at: number, bytes: Buffer): number {
  out.set(bytes, at);
  return at + bytes.length;
}

function putBase64(out: Buffer, at: number, bytes: Buffer | null): number {
  if (bytes === null) return put(out, at, NULL);
  out[at++] = QUOTE;
  // Node's base64 (SIMD) into a one-byte string, then one copy: cheaper than encoding in JS.
  at += out.write(bytes.toString("base64"), at, "latin1");
  out[at++] = QUOTE;
  return at;
}

/** Writes a number as JSON.stringify would; integers (offsets, partitions) digit by digit. */
function putNumber(out: Buffer, at: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return at + out.write(JSON.stringify(n), at, "latin1");
  if (n === 0) {
    out[at] = 0x30;
    return at + 1;
  }
  let digits = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 10)) digits++;
  let end = at + digits;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 10)) out[--end] = 0x30 + (rest % 10);
  return at + digits;
}
