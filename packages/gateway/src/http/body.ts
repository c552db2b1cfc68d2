/** Reading request bodies with a byte limit that holds for chunked bodies too. */
import type { Context } from "hono";
import { badRequest, payloadTooLarge } from "../errors.ts";

export async function readBodyBytes(c: Context, limit: number): Promise<Buffer> {
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  if (declared > limit) throw payloadTooLarge(limit);
  const body = c.req.raw.body;
  if (!body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) {
      await body.cancel().catch(() => {});
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
