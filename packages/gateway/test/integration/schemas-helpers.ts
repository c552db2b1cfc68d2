/**
 * Helpers for the schema format tests: the stack's registry over Confluent's REST API, v2/v3
 * produce and consume in avro/jsonschema/protobuf as REST Proxy clients send them, topic end
 * offsets (to prove a refused request wrote nothing) and the wire format's framing.
 */
import Kafka from "@confluentinc/kafka-javascript";
import { expect } from "vitest";
import { createConsumer, instanceCall } from "./consumer-helpers.ts";
import { call, type HttpResult, lbUrl, stack, V2 } from "./helpers.ts";

export type SchemaFormat = "avro" | "jsonschema" | "protobuf";
export const FORMATS: SchemaFormat[] = ["avro", "jsonschema", "protobuf"];
export const contentType = (format: SchemaFormat) => `application/vnd.kafka.${format}.v2+json`;
/** The registry's `schemaType` for each embedded format (AVRO is the registry's default). */
export const SCHEMA_TYPE = { avro: "AVRO", jsonschema: "JSON", protobuf: "PROTOBUF" } as const;
/** REST Proxy v3's `type` for each embedded format. */
export const V3_TYPE = { avro: "AVRO", jsonschema: "JSONSCHEMA", protobuf: "PROTOBUF" } as const;

/** The stack's registry (global setup starts it with the stack). */
export function registryUrl(): string {
  const url = (stack() as { schemaRegistry?: string | null }).schemaRegistry;
  if (!url) throw new Error("the test stack runs no schema registry (stack().schemaRegistry is empty)");
  return url;
}

const REGISTRY_TYPE = "application/vnd.schemaregistry.v1+json";

export function registry(method: string, path: string, body?: object): Promise<HttpResult> {
  return call(method, `${registryUrl()}${path}`, {
    headers: { accept: REGISTRY_TYPE, ...(body ? { "content-type": REGISTRY_TYPE } : {}) },
    body,
  });
}

/** Registers a schema straight with the registry (not through the gateway); returns its id. */
export async function registerSchema(subject: string, format: SchemaFormat, schema: string): Promise<number> {
  const body = format === "avro" ? { schema } : { schema, schemaType: SCHEMA_TYPE[format] };
  const res = await registry("POST", `/subjects/${encodeURIComponent(subject)}/versions`, body);
  expect(res.status, res.text).toBe(200);
  return res.json.id as number;
}

/** The registry's versions of a subject (`[]` when it has none). */
export async function subjectVersions(subject: string): Promise<number[]> {
  const res = await registry("GET", `/subjects/${encodeURIComponent(subject)}/versions`);
  if (res.status === 404) return [];
  expect(res.status, res.text).toBe(200);
  return res.json as number[];
}

/** The id and version the registry holds for `schema` under `subject` (Confluent's lookup), or null. */
export async function lookUp(
  subject: string,
  format: SchemaFormat,
  schema: string,
): Promise<{ id: number; version: number } | null> {
  const body = format === "avro" ? { schema } : { schema, schemaType: SCHEMA_TYPE[format] };
  const res = await registry("POST", `/subjects/${encodeURIComponent(subject)}`, body);
  if (res.status === 404) return null;
  expect(res.status, res.text).toBe(200);
  return { id: res.json.id, version: res.json.version };
}

/** The subjects and versions the registry files schema `id` under. */
export async function subjectsOfId(id: number): Promise<Array<{ subject: string; version: number }>> {
  const res = await registry("GET", `/schemas/ids/${id}/versions`);
  expect(res.status, res.text).toBe(200);
  return res.json;
}

/** A v2 produce in a schema format, as a REST Proxy client sends it. */
export function produceSchemaV2(
  topic: string,
  format: SchemaFormat,
  body: unknown,
  options: { base?: string; partition?: number } = {},
): Promise<HttpResult> {
  const path = options.partition === undefined ? "" : `/partitions/${options.partition}`;
  return call("POST", `${options.base ?? lbUrl()}/topics/${topic}${path}`, {
    headers: { "content-type": contentType(format), accept: V2 },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Expects a 200 v2 produce answer whose every record was written; returns the answer. */
export function expectProduced(res: HttpResult, records: number): HttpResult {
  expect(res.status, res.text).toBe(200);
  expect(res.json.offsets, res.text).toHaveLength(records);
  for (const o of res.json.offsets) expect(o.error_code, res.text).toBeNull();
  return res;
}

/** A refusal with Confluent's body: the status, the 5-digit (or 3-digit) code, nothing else. */
export function expectRefused(res: HttpResult, status: number, code: number, message?: RegExp | string): void {
  expect(res.status, res.text).toBe(status);
  expect(Object.keys(res.json ?? {}).sort(), res.text).toEqual(["error_code", "message"]);
  expect(res.json.error_code, res.text).toBe(code);
  if (message !== undefined) expect(res.json.message).toMatch(message);
}

/**
 * A retriable server-side refusal: a 5xx with a 5-digit 5xxxx Confluent code (Wharf answers 503 /
 * 50003, REST Proxy's code for retriable errors, with Retry-After), never a 4xx that tells the
 * client its request was wrong.
 */
export function expectRetriable(res: HttpResult): void {
  expect(res.status, res.text).toBeGreaterThanOrEqual(500);
  expect(res.status, res.text).toBeLessThan(600);
  expect(Object.keys(res.json ?? {}).sort(), res.text).toEqual(["error_code", "message"]);
  expect(String(res.json.error_code), res.text).toMatch(/^5\d{4}$/);
  if (res.status === 503) expect(res.headers["retry-after"], "503 with Retry-After").toBeDefined();
}

/** The end offset of each partition of `topic`, read from the brokers (not the gateway). */
export async function endOffsets(topic: string): Promise<number[]> {
  const consumer = new Kafka.KafkaConsumer({
    "bootstrap.servers": stack().kafka,
    "group.id": `wm-${Math.random().toString(36).slice(2, 10)}`,
  } as Kafka.ConsumerGlobalConfig);
  await new Promise<void>((resolve, reject) => consumer.connect({}, (e) => (e ? reject(e) : resolve())));
  try {
    const md = await new Promise<Kafka.Metadata>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: 10_000 }, (e, m) => (e ? reject(e) : resolve(m))),
    );
    const partitions = (md.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => p.id).sort();
    const out: number[] = [];
    for (const partition of partitions) {
      const high = await new Promise<number>((resolve, reject) =>
        consumer.queryWatermarkOffsets(topic, partition, 10_000, (e, o) => (e ? reject(e) : resolve(o.highOffset))),
      );
      out.push(high);
    }
    return out;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/** The Confluent wire format's header: magic byte 0, then the schema id as a 4-byte big-endian int. */
export function wireSchemaId(bytes: Buffer | null): number {
  expect(bytes, "a record in the wire format").not.toBeNull();
  const b = bytes as Buffer;
  expect(b.length).toBeGreaterThanOrEqual(5);
  expect(b[0], "magic byte").toBe(0);
  return b.readInt32BE(1);
}

/** A v2 consumer instance in a schema format, subscribed to `topic`, reading from the beginning. */
export async function schemaConsumer(topic: string, format: SchemaFormat, group: string, base = lbUrl()) {
  const consumer = await createConsumer(base, group, "c1", { format });
  const sub = await instanceCall(consumer, "POST", "/subscription", { topics: [topic] }, { retryUntilMs: 10_000 });
  expect(sub.status, sub.text).toBe(204);
  return consumer;
}

export interface ConsumedRecord {
  topic: string;
  key: unknown;
  value: unknown;
  partition: number;
  offset: number;
}

/** One GET records in the consumer's format: the raw answer, whatever its status. */
export function pollSchema(
  consumer: Awaited<ReturnType<typeof schemaConsumer>>,
  format: SchemaFormat,
  timeoutMs = 1000,
): Promise<HttpResult> {
  return instanceCall(consumer, "GET", `/records?timeout=${timeoutMs}`, undefined, {
    accept: contentType(format),
    retryUntilMs: 30_000,
  });
}

/** Polls until `count` records arrived (each answer must be a 200), or fails at the deadline. */
export async function consumeSchema(
  consumer: Awaited<ReturnType<typeof schemaConsumer>>,
  format: SchemaFormat,
  count: number,
  deadlineMs = 40_000,
): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  const deadline = Date.now() + deadlineMs;
  while (out.length < count && Date.now() < deadline) {
    const res = await pollSchema(consumer, format);
    expect(res.status, res.text).toBe(200);
    out.push(...(res.json as ConsumedRecord[]));
  }
  expect(out.length, "records consumed before the deadline").toBe(count);
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

export async function deleteConsumer(consumer: Awaited<ReturnType<typeof schemaConsumer>>): Promise<void> {
  await instanceCall(consumer, "DELETE", "", undefined, { retryUntilMs: 10_000 });
}

/**
 * A decoded value in a form both sides of a comparison share: bytes (a Buffer on our side, however
 * the Python decoder spells them on its side) as `{ bytes: hex }`, everything else as is.
 */
export function comparable(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { bytes: value.toString("hex") };
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v)]));
  }
  return value;
}

/** Requests the registry has answered so far (the stand-in's own counter, which leaves itself out). */
export async function registryRequestCount(): Promise<number> {
  const res = await registry("GET", "/_standin/metrics");
  expect(res.status, res.text).toBe(200);
  return res.json.requests as number;
}
