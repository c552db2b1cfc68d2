/**
 * Forwards a consumer request to the node that owns the instance, over pooled keep-alive
 * connections (undici), signed with the cluster secret.
 */
import { Agent, type Dispatcher } from "undici";
import { serviceUnavailable } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import { PRINCIPAL_HEADER } from "../security/principal.ts";
import { signRequest } from "./internal-auth.ts";

export interface ForwardRequest {
  method: string;
  pathAndQuery: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The authenticated principal (encoded), signed with the request; the owner checks it. */
  principal?: string;
  /** Aborts the request to the owner (our client left). */
  signal?: AbortSignal;
}

export interface Forwarder {
  forward(address: string, request: ForwardRequest): Promise<Response>;
  /** Breaks every event stream passed through (shutdown): their clients reconnect elsewhere. */
  endStreams(): Promise<void>;
  close(): Promise<void>;
}

/** Only what the owner needs to serve the request; never the client's credentials or hops. */
const FORWARDED_HEADERS = ["content-type", "accept", "last-event-id"];

export function pickForwardedHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

export function createForwarder(secret: string, metrics: Metrics, maxWaitMs: number): Forwarder {
  const agent = new Agent({
    connections: 32,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    connect: { timeout: 2000 },
    // A forwarded long-poll may legitimately wait for its whole consumer request timeout.
    headersTimeout: maxWaitMs + 15_000,
    bodyTimeout: maxWaitMs + 15_000,
  });
  // An event stream holds its connection for as long as it lasts: streams get their own pool, so
  // they never queue the ordinary calls behind them. Heartbeats keep within the body timeout.
  const streamAgent = new Agent({
    connect: { timeout: 2000 },
    headersTimeout: maxWaitMs + 15_000,
    bodyTimeout: maxWaitMs + 15_000,
  });

  return {
    async forward(address, request) {
      const started = performance.now();
      try {
        const streaming = (request.headers.accept ?? "").includes("text/event-stream");
        const response = await (streaming ? streamAgent : agent).request({
          origin: address,
          path: request.pathAndQuery,
          method: request.method as "GET",
          headers: {
            ...request.headers,
            ...(request.principal ? { [PRINCIPAL_HEADER]: request.principal } : {}),
            ...signRequest(secret, request.method, request.pathAndQuery, request.body, request.principal),
          },
          body: request.body.length > 0 ? request.body : undefined,
          signal: request.signal,
        });
        const eventStream = String(response.headers["content-type"] ?? "").startsWith("text/event-stream");
        const body = eventStream ? passThrough(response.body) : Buffer.from(await response.body.arrayBuffer());
        metrics.forwards.inc({ outcome: "ok" });
        metrics.forwardDuration.observe((performance.now() - started) / 1000);
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value === undefined || ["connection", "keep-alive", "transfer-encoding", "content-length"].includes(name))
            continue;
          headers.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        return new Response(response.statusCode === 204 ? null : body, { status: response.statusCode, headers });
      } catch (error) {
        if (request.signal?.aborted) {
          // Our client left: nobody waits for an answer, and the owner is fine.
          metrics.forwards.inc({ outcome: "abandoned" });
          throw serviceUnavailable("The client closed the connection.");
        }
        metrics.forwards.inc({ outcome: "error" });
        // The owner is unreachable (dying or just died): its lease lapses shortly and the next
        // request adopts the instance, so this is retriable, never a 404.
        throw serviceUnavailable(
          `Owner of this consumer instance is unreachable (${(error as Error).message}); retry.`,
        );
      }
    },
    endStreams: () => streamAgent.destroy(),
    close: async () => {
      await Promise.all([agent.close(), streamAgent.destroy()]);
    },
  };
}

/**
 * An event stream's body, passed on as it arrives. It reads from the owner only when our client
 * has taken the previous chunk, so a slow reader's backpressure reaches the owner's stream.
 */
function passThrough(body: Dispatcher.ResponseData["body"]): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await chunks.next();
          if (done) controller.close();
          else controller.enqueue(value as Uint8Array);
        } catch (error) {
          // The owner went away mid-stream: the client's connection breaks and EventSource resumes.
          controller.error(error);
        }
      },
      cancel() {
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
