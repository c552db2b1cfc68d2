/** Reading request bodies with a byte limit that holds for chunked bodies too. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";
import { payloadTooLarge } from "../errors.ts";
import type { KeyedWrites } from "./idempotency/writes.ts";
import type { ParseOptions } from "./json.ts";
import { JsonBodyParser } from "./json-body.ts";

/** What the node adapter (or the internal listener) passes as hono's env. */
export interface RequestEnv {
  /** node:http's request, from @hono/node-server. */
  incoming?: IncomingMessage;
  /** node:http's response, from @hono/node-server. */
  outgoing?: ServerResponse;
  /** A body already read and verified (forwarded requests on the internal listener). */
  body?: Uint8Array;
  /** Set by the Idempotency-Key middleware on a keyed produce request (idempotency/writes.ts). */
  writes?: KeyedWrites;
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
    // These run as event listeners: anything they throw (a body that is not JSON) must become
    // the request's rejection, never an uncaught exception that ends the process.
    const finish = (outcome: () => void) => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
      try {
        outcome();
      } catch (error) {
        reject(error);
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        try {
          return sink.push(chunk);
        } catch (error) {
          return finish(() => reject(error));
        }
      }
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
export function readJsonBody(c: Context, limit: number, options?: ParseOptions): Promise<unknown> {
  return readBody(c, limit, () => new JsonBodyParser(options));
}
