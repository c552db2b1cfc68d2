/**
 * Feeds one topic event stream, in one of two ways: from a shared feed (topic-feed.ts), writing
 * the feed's chunks as they are, or from its own consumer, rendering its own events and
 * advancing its own resume cursor. A shared stream that falls too far behind continues on its
 * own consumer from where its last shared chunk ended; a stream on its own consumer that reaches
 * exactly the position of the feed for its topic, partitions and format joins it.
 */
import { serviceUnavailable } from "../../errors.ts";
import type { ConsumedMessage } from "../../kafka/consumer-instance.ts";
import type { Schemas } from "../../schemas/index.ts";
import { Cursor } from "./cursor.ts";
import type { StreamSource, StreamWrite } from "./event-stream.ts";
import { prepareRecords, recordEvent, recordJson, type StreamFormat } from "./record-event.ts";
import type { FeedReader, Subscription } from "./topic-feed.ts";

/** A stream's own consumer: a TopicStream, or a fake in unit tests. */
export interface TopicReader extends FeedReader {
  /** Gives back records taken but not sent; the next take returns them first. */
  unread(messages: ConsumedMessage[]): void;
  /** Each partition's end offset now (the next offset to be written). */
  ends(): Promise<Map<number, number>>;
}

/** What a source needs from the node's feeds (topic-feeds.ts) to switch between the two ways. */
export interface FeedHost {
  /** A consumer of its own from these offsets, one per partition of the stream. */
  openOwn(resume: Map<number, number>): Promise<TopicReader>;
  /** Closes a consumer openOwn gave. */
  closeOwn(reader: TopicReader): Promise<void>;
  /** A subscription to the stream's feed if that stands exactly at the cursor; else null. */
  rejoin(cursor: Cursor): Subscription | null;
  /**
   * With no feed for the stream, makes its consumer the feed, from the cursor, if that is near
   * the end of the log; the subscription of the stream, or null (the reader stays the stream's).
   */
  promote(reader: TopicReader, cursor: Cursor): Promise<Subscription | null>;
}

/** How often a stream on its own consumer, with no feed to join, asks whether it could be one. */
const PROMOTE_CHECK_MS = 1000;

type Mode = { kind: "shared"; subscription: Subscription } | { kind: "own"; reader: TopicReader; cursor: Cursor };

export class TopicStreamSource implements StreamSource {
  readonly #topic: string;
  readonly #host: FeedHost;
  readonly #format: StreamFormat;
  readonly #schemas: Schemas | null;
  #mode: Mode;
  #closed = false;
  #nextPromotion = 0;
  /** A switch to an own consumer in progress, which close() must wait for. */
  #switching: Promise<unknown> = Promise.resolve();

  private constructor(topic: string, mode: Mode, host: FeedHost, format: StreamFormat, schemas: Schemas | null) {
    this.#topic = topic;
    this.#mode = mode;
    this.#host = host;
    this.#format = format;
    this.#schemas = schemas;
  }

  static shared(
    topic: string,
    subscription: Subscription,
    host: FeedHost,
    format: StreamFormat,
    schemas: Schemas | null,
  ) {
    return new TopicStreamSource(topic, { kind: "shared", subscription }, host, format, schemas);
  }

  /** The cursor must already name every partition of the stream at its start offset. */
  static own(
    topic: string,
    reader: TopicReader,
    cursor: Cursor,
    host: FeedHost,
    format: StreamFormat,
    schemas: Schemas | null,
  ) {
    return new TopicStreamSource(topic, { kind: "own", reader, cursor }, host, format, schemas);
  }

  /** Whether the stream reads from a shared feed now. */
  get shared(): boolean {
    return this.#mode.kind === "shared";
  }

  pump(waitMs: number, maxBytes: number, write: StreamWrite): Promise<number> {
    const mode = this.#mode;
    return mode.kind === "shared"
      ? this.#pumpShared(mode.subscription, waitMs, maxBytes, write)
      : this.#pumpOwn(mode.reader, mode.cursor, waitMs, maxBytes, write);
  }

  async #pumpShared(subscription: Subscription, waitMs: number, maxBytes: number, write: StreamWrite) {
    const chunks = await subscription.take(waitMs, maxBytes);
    if (chunks.length > 0) {
      let events = 0;
      for (const chunk of chunks) {
        if (!write(chunk.bytes, chunk.events)) return 0;
        events += chunk.events;
      }
      return events;
    }
    const departure = subscription.departure;
    if (departure === null || this.#closed) return 0;
    if (departure.kind === "failed") throw departure.error;
    if (departure.kind === "closed")
      throw serviceUnavailable("The stream's feed closed; reconnect with Last-Event-ID.");
    // Behind: everything up to `resume` has been written; the rest comes from a consumer of its own.
    const switching = this.#switchToOwn(departure.resume);
    this.#switching = switching.catch(() => {});
    await switching;
    return 0;
  }

  async #switchToOwn(resume: Map<number, number>): Promise<void> {
    const reader = await this.#host.openOwn(resume);
    if (this.#closed) {
      await this.#host.closeOwn(reader);
      return;
    }
    const cursor = new Cursor();
    for (const [partition, offset] of resume) cursor.set(this.#topic, partition, offset);
    this.#mode = { kind: "own", reader, cursor };
  }

  async #pumpOwn(reader: TopicReader, cursor: Cursor, waitMs: number, maxBytes: number, write: StreamWrite) {
    const messages = await reader.take(waitMs, maxBytes);
    let written = 0;
    if (messages.length > 0) {
      try {
        await prepareRecords(this.#format, this.#schemas, messages);
      } catch (error) {
        // The registry is down: the records wait for the next stream (a resume starts before them).
        reader.unread(messages);
        throw error;
      }
      const events: string[] = [];
      let size = 0;
      let used = 0;
      for (const m of messages) {
        // Event text can be far larger than the record (base64, escaping, the cursor in every id).
        if (events.length > 0 && size >= maxBytes) break;
        used++;
        cursor.set(m.topic, m.partition, m.offset + 1);
        const event = recordEvent(cursor.toString(), recordJson(m, this.#format, this.#schemas));
        events.push(event);
        size += event.length;
      }
      reader.unread(messages.slice(used));
      if (!write(events.join(""), events.length)) return 0;
      written = events.length;
    }
    // Caught up with the feed: what it publishes next is exactly what this stream sends next.
    // Checked in the same turn as the last write, so the feed cannot move in between.
    const subscription = this.#closed ? null : this.#host.rejoin(cursor);
    if (subscription) {
      this.#mode = { kind: "shared", subscription };
      await this.#host.closeOwn(reader);
      return written;
    }
    if (!this.#closed && Date.now() >= this.#nextPromotion) {
      this.#nextPromotion = Date.now() + PROMOTE_CHECK_MS;
      const promoted = await this.#host.promote(reader, cursor);
      if (promoted && this.#closed) await promoted.unsubscribe();
      else if (promoted) this.#mode = { kind: "shared", subscription: promoted };
    }
    return written;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const mode = this.#mode;
    if (mode.kind === "shared") await mode.subscription.unsubscribe();
    else await this.#host.closeOwn(mode.reader);
    await this.#switching;
  }
}
