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

export async function readJsonBody(c: Context, limit: number): Promise<unknown> {
  const bytes = await readBodyBytes(c, limit);
  if (bytes.length === 0) throw badRequest("Request body is empty; a JSON document is required.");
  return parseJson(bytes.toString("utf8"));
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`Malformed JSON: ${(error as Error).message}`);
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
