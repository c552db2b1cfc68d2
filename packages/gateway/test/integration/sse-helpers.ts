/**
 * Helpers for event stream tests: an EventSource-style client over undici (Node 24 has no global
 * EventSource without --experimental-eventsource), a direct Kafka producer, and which gateway
 * serves a stream.
 */
import Kafka from "@confluentinc/kafka-javascript";
import { type Dispatcher, request } from "undici";
import { sleep, stack } from "./helpers.ts";

export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/** One connection: parses the event stream as EventSource does, reading only when asked to. */
export class SseConnection {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /**
   * As EventSource keeps it, for the events handed out by next(): the `id:` of the last one (an
   * id whose event was cut off by a broken connection does not count). Sent as Last-Event-ID.
   */
  lastEventId: string;
  #idBuffer: string;
  readonly comments: string[] = [];
  retry: number | null = null;
  readonly #body: Dispatcher.ResponseData["body"];
  readonly #chunks: AsyncIterator<Buffer>;
  readonly #decoder = new TextDecoder();
  #text = "";
  #data: string[] = [];
  #type = "";
  #ready: SseEvent[] = [];
  #ended = false;
  /** A read that a timeout gave up waiting for; its chunk must not be lost. */
  #pending: Promise<IteratorResult<Buffer>> | null = null;

  private constructor(response: Dispatcher.ResponseData, lastEventId: string) {
    this.status = response.statusCode;
    this.headers = response.headers;
    this.#body = response.body;
    this.#chunks = response.body[Symbol.asyncIterator]();
    this.lastEventId = lastEventId;
    this.#idBuffer = lastEventId;
  }

  static async open(url: string, options: { lastEventId?: string; accept?: string } = {}): Promise<SseConnection> {
    const headers: Record<string, string> = { accept: options.accept ?? "text/event-stream" };
    if (options.lastEventId) headers["last-event-id"] = options.lastEventId;
    const response = await request(url, { headers, bodyTimeout: 0, headersTimeout: 30_000 });
    return new SseConnection(response, options.lastEventId ?? "");
  }

  /** The body of a non-stream answer (an error). */
  text(): Promise<string> {
    return this.#body.text();
  }

  /** The next event; null once the stream ended. Throws when the connection broke. */
  async next(timeoutMs = 30_000): Promise<SseEvent | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#ready.length === 0 && !this.#ended) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no event within ${timeoutMs} ms`)),
          Math.max(0, deadline - Date.now()),
        );
      });
      try {
        this.#pending ??= this.#chunks.next();
        const { value, done } = await Promise.race([this.#pending, timeout]);
        this.#pending = null;
        if (done) this.#ended = true;
        else this.#feed(this.#decoder.decode(value, { stream: true }));
      } finally {
        clearTimeout(timer);
      }
    }
    const event = this.#ready.shift() ?? null;
    if (event) this.lastEventId = event.id;
    return event;
  }

  #feed(text: string): void {
    this.#text += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#text);
      if (!match) return;
      const line = this.#text.slice(0, match.index);
      this.#text = this.#text.slice(match.index + match[0].length);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === "") {
      if (this.#data.length > 0) {
        this.#ready.push({ id: this.#idBuffer, event: this.#type || "message", data: this.#data.join("\n") });
      }
      this.#data = [];
      this.#type = "";
      return;
    }
    if (line.startsWith(":")) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#type = value;
    else if (field === "id" && !value.includes("\u0000")) this.#idBuffer = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
  }

  close(): void {
    this.#body.destroy();
  }
}

export interface Followed {
  events: SseEvent[];
  /** Status of every connection attempt, in order. */
  statuses: number[];
  /** Connections that broke or ended before `until` held. */
  breaks: number;
}

/**
 * What EventSource does, made observable: reads events until `until` holds, reconnecting with
 * Last-Event-ID whenever the connection breaks or ends, and retrying answers other than 200
 * (EventSource itself would give up on those).
 */
export async function follow(
  url: string,
  until: (events: SseEvent[]) => boolean,
  options: {
    lastEventId?: string;
    deadlineMs?: number;
    onEvent?: (event: SseEvent, all: SseEvent[]) => Promise<void>;
  } = {},
): Promise<Followed> {
  const out: Followed = { events: [], statuses: [], breaks: 0 };
  const deadline = Date.now() + (options.deadlineMs ?? 60_000);
  let lastEventId = options.lastEventId ?? "";
  while (!until(out.events)) {
    if (Date.now() > deadline) throw new Error(`stream incomplete: ${out.events.length} events, ${out.statuses}`);
    let connection: SseConnection;
    try {
      connection = await SseConnection.open(url, { lastEventId });
    } catch {
      out.statuses.push(0);
      await sleep(250);
      continue;
    }
    out.statuses.push(connection.status);
    if (connection.status !== 200) {
      await connection.text().catch(() => "");
      await sleep(250);
      continue;
    }
    try {
      while (!until(out.events)) {
        const event = await connection.next(Math.max(1, deadline - Date.now()));
        if (event === null) break;
        out.events.push(event);
        await options.onEvent?.(event, out.events);
      }
    } catch {
      // The connection broke (its node died): reconnect, as EventSource does.
    } finally {
      lastEventId = connection.lastEventId;
      connection.close();
    }
    if (!until(out.events)) out.breaks++;
  }
  return out;
}

/** A librdkafka producer straight to Kafka, so the gateways under test only consume. */
export async function kafkaProducer() {
  const producer = new Kafka.Producer({
    "bootstrap.servers": stack().kafka,
    "linger.ms": 5,
    dr_cb: true,
  } as Kafka.ProducerGlobalConfig);
  await new Promise<void>((resolve, reject) => producer.connect({}, (e) => (e ? reject(e) : resolve())));
  producer.setPollInterval(10);
  return {
    send(
      topic: string,
      partition: number,
      value: Buffer | string,
      options: { key?: string; headers?: Array<Record<string, string>>; timestamp?: number } = {},
    ) {
      producer.produce(
        topic,
        partition,
        Buffer.from(value),
        options.key ?? null,
        options.timestamp ?? null,
        undefined,
        options.headers,
      );
    },
    flush: () => new Promise<void>((resolve, reject) => producer.flush(30_000, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise<void>((resolve) => producer.disconnect(() => resolve())),
  };
}

/** The gateways that currently serve streams of `kind` (from their wharf_sse_streams gauge). */
export async function gatewaysServing(kind: "topic" | "consumer"): Promise<string[]> {
  const out: string[] = [];
  const pattern = new RegExp(`^wharf_sse_streams\\{[^}]*kind="${kind}"[^}]*\\} [1-9]`, "m");
  for (const g of stack().gateways) {
    const text = await fetch(`${g.url}/metrics`)
      .then((r) => r.text())
      .catch(() => "");
    if (pattern.test(text)) out.push(g.id);
  }
  return out;
}

/** Next offsets per partition named by an event id (`topic:partition:offset,...`). */
export function cursorOf(id: string): Map<string, number> {
  return new Map(
    id
      .split(",")
      .filter(Boolean)
      .map((entry) => {
        const [topic, partition, offset] = entry.split(":");
        return [`${decodeURIComponent(topic as string)}:${partition}`, Number(offset)];
      }),
  );
}

/** One record event's data: the v2 record with its timestamp and headers. */
export interface StreamRecord {
  topic: string;
  key: unknown;
  value: unknown;
  partition: number;
  offset: number;
  timestamp: number;
  headers: Array<{ name: string; value: string }>;
}

export const recordOf = (e: SseEvent) => JSON.parse(e.data) as StreamRecord;

/** The next `count` events of a stream; an early end of the stream is an error. */
export async function readEvents(connection: SseConnection, count: number, timeoutMs = 30_000): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  while (out.length < count) {
    const event = await connection.next(timeoutMs);
    if (event === null) throw new Error(`stream ended after ${out.length} events`);
    out.push(event);
  }
  return out;
}
