/**
 * One Server-Sent Events response, fed by a source (a topic or a consumer instance).
 *
 * Backpressure is the point of the shape: the body is a pull stream with a high-water mark of
 * zero, so the source is asked for records only when node has written everything before to the
 * socket and wants more. A reader that stops reading therefore stops consumption (Kafka keeps
 * the data, not the gateway); what waits in memory is one batch of at most stream.batch.max.bytes
 * plus node's socket buffer. A reader that takes nothing for stream.slow.reader.timeout.ms is told
 * so (`event: error`, reason slow_reader) behind the events already written, and the stream ends;
 * a socket that then takes nothing for longer still is destroyed by its timeout.
 */
import type { ServerResponse } from "node:http";
import type { Context } from "hono";
import type { GatewayConfig } from "../../config.ts";
import { RestError } from "../../errors.ts";
import type { Metrics } from "../../metrics.ts";
import { commentLine, errorEvent, type StreamEndReason } from "./record-event.ts";

export type StreamSettings = GatewayConfig["stream"];
export type StreamKind = "topic" | "consumer";

/**
 * Writes event text, or bytes already encoded (a shared feed hands the same bytes to every
 * stream); false once the stream has ended.
 */
export type StreamWrite = (chunk: string | Uint8Array, events: number) => boolean;

export interface StreamSource {
  /**
   * Waits up to waitMs for records and writes them as events through `write`, about maxBytes of
   * text at most (a larger event alone). Resolves with the number of events written, 0 when the
   * time passed with nothing to send. `write` answers false once the stream has ended; the source
   * then keeps for a later reader what it had taken.
   */
  pump(waitMs: number, maxBytes: number, write: StreamWrite): Promise<number>;
  /** Ends a pump in progress soon, lets it give back what it took, then releases the source. */
  close(): Promise<void>;
}

/** What the stream needs from the registry of open streams (see streams.ts). */
export interface StreamTracker {
  add(stream: EventStream, exclusiveKey?: string): void;
  remove(stream: EventStream): void;
}

/** How long EventSource waits before reconnecting, sent once at the start. */
const RETRY_MS = 1000;
const encoder = new TextEncoder();

/** node's response behind a request on the public listener; absent behind the internal one. */
export const outgoingOf = (c: Context): ServerResponse | undefined =>
  (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;

/** After the slow-reader drop, how long a socket may take nothing before it is destroyed. */
export const socketIdleLimitMs = (settings: StreamSettings) => settings.slowReaderTimeoutMs + 2 * settings.heartbeatMs;

/**
 * For event streams passed through from another node: node destroys the client's socket once it
 * has taken no bytes (and been sent none, heartbeats included) for the idle limit, so a reader
 * that never reads again cannot hold a connection and its buffers forever.
 */
export function guardEventStreamSocket(c: Context, settings: StreamSettings): void {
  if (!(c.res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return;
  outgoingOf(c)?.setTimeout(socketIdleLimitMs(settings));
}

export interface EventStreamOptions {
  kind: StreamKind;
  source: StreamSource;
  settings: StreamSettings;
  metrics: Metrics;
  tracker: StreamTracker;
  outgoing?: ServerResponse;
  /** A newer stream with the same key ends this one (one stream per consumer instance). */
  exclusiveKey?: string;
}

export class EventStream {
  readonly kind: StreamKind;
  readonly #source: StreamSource;
  readonly #settings: StreamSettings;
  readonly #metrics: Metrics;
  readonly #tracker: StreamTracker;
  readonly #outgoing: ServerResponse | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** Since when written events wait for the reader to take them; null while it wants more. */
  #blockedSince: number | null = null;
  #lastChunkBytes = 0;
  #ended = false;
  #finished: Promise<void> | null = null;
  readonly body: ReadableStream<Uint8Array>;

  constructor(options: EventStreamOptions) {
    this.kind = options.kind;
    this.#source = options.source;
    this.#settings = options.settings;
    this.#metrics = options.metrics;
    this.#tracker = options.tracker;
    this.#outgoing = options.outgoing;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          this.#enqueue(`retry: ${RETRY_MS}\n${commentLine(`wharf ${this.kind} stream`)}`);
        },
        pull: () => this.#pull(),
        cancel: () => {
          this.#ended = true;
          return this.#finish();
        },
      },
      { highWaterMark: 0 },
    );
    this.#outgoing?.setTimeout(socketIdleLimitMs(this.#settings));
    this.#tracker.add(this, options.exclusiveKey);
  }

  response(): Response {
    return new Response(this.body, {
      status: 200,
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        // Proxies such as nginx would otherwise hold events back to fill their buffers.
        "x-accel-buffering": "no",
      },
    });
  }

  /** How long written events have waited for the reader; 0 while it keeps up. */
  blockedFor(now: number): number {
    return this.#blockedSince === null ? 0 : now - this.#blockedSince;
  }

  /** Bytes written and not yet taken by the socket (estimated where node's response is not at hand). */
  bufferedBytes(): number {
    if (this.#outgoing) return this.#outgoing.writableLength;
    return this.#blockedSince === null ? 0 : this.#lastChunkBytes;
  }

  dropSlowReader(): void {
    if (this.#ended) return;
    this.#metrics.sseSlowReadersDropped.inc({ kind: this.kind });
    const seconds = Math.round(this.#settings.slowReaderTimeoutMs / 1000);
    this.#end(errorEvent("slow_reader", `The reader took no events for ${seconds} s; reconnect with Last-Event-ID.`));
  }

  /** A newer stream of the same consumer instance took over. */
  replace(): Promise<void> {
    this.#end(commentLine("replaced by a newer stream of this consumer instance"));
    return this.#finish();
  }

  /** Graceful shutdown: end the response; EventSource clients reconnect (elsewhere) and resume. */
  shutdown(): Promise<void> {
    this.#end(commentLine("node shutting down; reconnect with Last-Event-ID"));
    return this.#finish();
  }

  async #pull(): Promise<void> {
    this.#blockedSince = null;
    await this.#pumpUntilSent();
    if (!this.#ended) this.#blockedSince = Date.now();
  }

  /** Writes records as they come, or a heartbeat once heartbeat.ms passed without any. */
  async #pumpUntilSent(): Promise<void> {
    const deadline = Date.now() + this.#settings.heartbeatMs;
    const write: StreamWrite = (chunk, events) => {
      if (this.#ended) return false;
      this.#enqueue(chunk);
      this.#metrics.sseEvents.inc({ kind: this.kind }, events);
      return true;
    };
    try {
      while (!this.#ended) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          this.#enqueue(commentLine("ping"));
          return;
        }
        if ((await this.#source.pump(remaining, this.#settings.batchMaxBytes, write)) > 0) return;
      }
    } catch (error) {
      const status = error instanceof RestError ? error.status : 500;
      const reason: StreamEndReason =
        status === 404 ? "instance_closed" : status === 409 ? "illegal_state" : "kafka_error";
      this.#end(errorEvent(reason, error instanceof RestError ? error.message : "Internal error"));
    }
  }

  #enqueue(chunk: string | Uint8Array): void {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    this.#lastChunkBytes = bytes.byteLength;
    this.#controller?.enqueue(bytes);
  }

  /** Writes a last text (it waits behind what the reader has not taken yet) and closes. */
  #end(last: string): void {
    if (this.#ended) return;
    this.#enqueue(last);
    this.#ended = true;
    this.#blockedSince = null;
    try {
      this.#controller?.close();
    } catch {
      // Already closed by a cancel.
    }
    void this.#finish();
  }

  #finish(): Promise<void> {
    this.#finished ??= (async () => {
      this.#ended = true;
      this.#tracker.remove(this);
      await this.#source.close().catch(() => {});
    })();
    return this.#finished;
  }
}

/** True when the Accept header asks for text/event-stream (EventSource sends exactly that). */
export function wantsEventStream(c: Context): boolean {
  return (c.req.header("accept") ?? "").split(",").some((range) => {
    const [type = "", ...params] = range.split(";").map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    return type === "text/event-stream" && (q === undefined || Number(q.slice(2)) > 0);
  });
}
