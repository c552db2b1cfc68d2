/** Reading request bodies with a byte limit that holds for chunked bodies too. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { StringDecoder } from "node:string_decoder";
import type { Context } from "hono";
import { badRequest, payloadTooLarge } from "../errors.ts";

/** What the node adapter (or the internal listener) passes as hono's env. */
export interface RequestEnv {
  /** node:http's request, from @hono/node-server. */
  incoming?: IncomingMessage;
  /** node:http's response, from @hono/node-server. */
  outgoing?: ServerResponse;
  /** A body already read and verified (forwarded requests on the internal listener). */
  body?: Uint8Array;
}

/**
 * Node's request, when nothing has read it yet. Reading it directly skips the web-stream adapter
 * behind c.req.raw.body (about a fifth of a small produce request's CPU). It is also the only way
 * to a GET body: a fetch Request cannot carry one, yet REST Proxy's GET .../offsets takes one.
 */
function untouchedIncoming(c: Context): IncomingMessage | null {
  const incoming = (c.env as RequestEnv | undefined)?.incoming;
  if (!incoming || incoming.readableDidRead || incoming.readableFlowing !== null) return null;
  return incoming;
}

export function readBodyBytes(c: Context, limit: number): Promise<Buffer> {
  return readBody(c, limit, bytesSink);
}

/** The body as UTF-8 text. */
export function readBodyText(c: Context, limit: number): Promise<string> {
  return readBody(c, limit, textSink);
}

/** How a body's chunks become the value a route wants. */
interface Sink<T> {
  push(chunk: Buffer): void;
  end(): T;
}

const bytesSink = (): Sink<Buffer> => {
  const chunks: Buffer[] = [];
  return {
    push: (chunk) => void chunks.push(chunk),
    end: () => (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
  };
};

/**
 * Text decoded chunk by chunk, never joined into one Buffer first: a produce body's bytes then
 * exist once outside V8's heap instead of twice, and external (ArrayBuffer) bytes are what make
 * V8 run full mark-compacts under load (one every ~110 ms at 1,500 requests of 140 KB a second).
 */
const textSink = (): Sink<string> => {
  const decoder = new StringDecoder("utf8");
  // Joined once at the end: a string built with += is a rope that JSON.parse must flatten.
  const parts: string[] = [];
  return {
    push: (chunk) => void parts.push(decoder.write(chunk)),
    end: () => {
      parts.push(decoder.end());
      return parts.length === 2 ? `${parts[0]}${parts[1]}` : parts.join("");
    },
  };
};

async function readBody<T>(c: Context, limit: number, sink: () => Sink<T>): Promise<T> {
  const preloaded = (c.env as RequestEnv | undefined)?.body;
  if (preloaded) {
    const out = sink();
    out.push(Buffer.from(preloaded));
    return out.end();
  }
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  if (declared > limit) throw payloadTooLarge(limit);
  const incoming = untouchedIncoming(c);
  if (incoming) return readIncoming(incoming, (c.env as RequestEnv).outgoing, limit, sink());
  const out = sink();
  const body = c.req.method === "GET" || c.req.method === "HEAD" ? null : c.req.raw.body;
  if (!body) return out.end();
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) {
      await body.cancel().catch(() => {});
      throw payloadTooLarge(limit);
    }
    out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return out.end();
}

/** The whole of node's request body, refusing it (and closing the connection) past `limit` bytes. */
function readIncoming<T>(
  incoming: IncomingMessage,
  outgoing: ServerResponse | undefined,
  limit: number,
  sink: Sink<T>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const finish = (outcome: () => void) => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return sink.push(chunk);
      // The rest of the body is never read, so the connection cannot carry another request: it
      // closes once the 413 is written.
      finish(() => reject(payloadTooLarge(limit)));
      incoming.pause();
      if (outgoing && !outgoing.headersSent) outgoing.shouldKeepAlive = false;
      else incoming.destroy();
    };
    const onEnd = () => finish(() => resolve(sink.end()));
    const onError = (error: Error) => finish(() => reject(error));
    const onClose = () => finish(() => reject(new Error("The client closed the connection before sending the body.")));
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onError);
    incoming.on("close", onClose);
  });
}

/**
 * The request body as JSON, or undefined when it is empty or only whitespace (Jersey hands REST
 * Proxy a null entity then, which each route answers in its own way).
 */
export async function readJsonBody(c: Context, limit: number, options?: ParseOptions): Promise<unknown> {
  const text = await readBodyText(c, limit);
  if (!/\S/.test(text)) return undefined;
  return parseJson(text, options);
}

export interface ParseOptions {
  /**
   * Keep numbers whose text JSON.parse would change (default true). A body whose numbers can only
   * be small integers (v2 binary produce: partitions, schema ids) skips the scan for them.
   */
  exactNumbers?: boolean;
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

export function parseJson(text: string, { exactNumbers = true }: ParseOptions = {}): unknown {
  const lossy =
    exactNumbers &&
    ((digitRun.test(text) && longDigitRun.test(text)) || (numberAfterDelimiter.test(text) && lossyNumber.test(text)));
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
