/** Reading request bodies with a byte limit that holds for chunked bodies too. */
import type { Context } from "hono";
import { badRequest, payloadTooLarge } from "../errors.ts";

/** What the node adapter (or the internal listener) passes as hono's env. */
export interface RequestEnv {
  /** node:http's request, from @hono/node-server. */
  incoming?: AsyncIterable<Uint8Array>;
  /** A body already read and verified (forwarded requests on the internal listener). */
  body?: Uint8Array;
}

/**
 * A fetch Request cannot carry a body on GET, yet REST Proxy's GET .../offsets takes one; such
 * bodies are read from node's request instead.
 */
function bodySource(c: Context): AsyncIterable<Uint8Array> | null {
  const env = c.env as RequestEnv | undefined;
  if ((c.req.method === "GET" || c.req.method === "HEAD") && env?.incoming) return env.incoming;
  return c.req.raw.body;
}

export async function readBodyBytes(c: Context, limit: number): Promise<Buffer> {
  const preloaded = (c.env as RequestEnv | undefined)?.body;
  if (preloaded) return Buffer.from(preloaded);
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  if (declared > limit) throw payloadTooLarge(limit);
  const body = bodySource(c);
  if (!body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) {
      if (body instanceof ReadableStream) await body.cancel().catch(() => {});
      throw payloadTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * The request body as JSON, or undefined when it is empty or only whitespace (Jersey hands REST
 * Proxy a null entity then, which each route answers in its own way).
 */
export async function readJsonBody(c: Context, limit: number): Promise<unknown> {
  const text = (await readBodyBytes(c, limit)).toString("utf8");
  if (text.trim() === "") return undefined;
  return parseJson(text);
}

interface RawJson {
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): boolean;
}
// Node 22+ has JSON.rawJSON and the reviver's source text; TypeScript's lib does not know them yet.
const { rawJSON, isRawJSON } = JSON as unknown as RawJson;

/**
 * A number whose text JSON.parse would not give back (beyond 2^53, 1.0, 1e2, -0...) is kept as
 * raw JSON, so a JSON key or value reaches Kafka as sent, as Jackson keeps it in REST Proxy.
 */
const keepNumberText = (_key: string, value: unknown, context?: { source?: string }) =>
  typeof value === "number" && context?.source !== undefined && String(value) !== context.source
    ? rawJSON(context.source)
    : value;
// Only bodies that may hold such a number pay for the reviver (several times slower): 16 or more
// digits, a fraction ending in 0, an exponent, or -0. Text inside strings may trigger it too.
const lossyNumber = /\d{16}|[\d.]{17}|[:,[]\s*(?:-?\d+\.\d*0(?!\d)|-?\d+(?:\.\d+)?[eE]|-0(?![.\d]))/;
// Cheap regexes that each alternative of lossyNumber implies. V8 scans the three-way alternation
// about 4x slower than these on long strings (a 100-record produce of 1 KiB base64 values:
// 0.34 ms against 0.07 ms), and a body without a long digit run or a number after : , [ never
// needs the full test. Same answer as lossyNumber.test(text) for every text.
const digitRun = /[\d.]{16}/;
const longDigitRun = /\d{16}|[\d.]{17}/;
const numberAfterDelimiter = /[:,[]\s*[-\d]/;

export function parseJson(text: string): unknown {
  const lossy =
    (digitRun.test(text) && longDigitRun.test(text)) || (numberAfterDelimiter.test(text) && lossyNumber.test(text));
  try {
    return lossy ? JSON.parse(text, keepNumberText) : JSON.parse(text);
  } catch (error) {
    throw badRequest(`Malformed JSON: ${(error as Error).message}`);
  }
}

/** True for a JSON object (not an array, null, or a number kept as raw JSON). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !isRawJSON(v);

/** The raw text of a number kept by parseJson, or null for anything else. */
export const rawNumberText = (v: unknown): string | null =>
  typeof v === "object" && v !== null && isRawJSON(v) ? (v as { rawJSON: string }).rawJSON : null;
