/**
 * One Kafka read of a topic shared by every live stream at the same position: a single
 * assign-only consumer and a single rendering of each event, written as the same bytes to every
 * subscriber. Streams with the same topic, partitions and format that stand at the feed's
 * position on every partition send exactly the same text, ids included (an id is the cursor
 * after its event), so sharing changes nothing a client can see.
 *
 * The feed never waits for a subscriber. Each one has its own queue of the shared chunks, capped
 * at subscriberMaxBytes; a subscriber whose queue would pass the cap leaves the feed at the
 * position after the last chunk it holds and, once it has sent those, reads on its own consumer
 * from there (topic-source.ts), as every stream did before feeds: Kafka keeps what it is behind,
 * and the slow-reader watchdog still drops it if it takes nothing at all. So one slow reader
 * neither stalls the others nor holds more than the cap of (shared) chunks.
 */
import type { ConsumedMessage } from "../../kafka/consumer-instance.ts";
import type { Schemas } from "../../schemas/index.ts";
import { Cursor } from "./cursor.ts";
import { prepareRecords, recordEvent, recordJson, type StreamFormat } from "./record-event.ts";

/** What a feed reads from: a TopicStream, or a fake in unit tests. */
export interface FeedReader {
  /** Where each partition starts (concrete offsets). */
  readonly start: ReadonlyMap<number, number>;
  /** Records for about maxBytes, waiting up to waitMs for the first; [] once closed. */
  take(waitMs: number, maxBytes: number): Promise<ConsumedMessage[]>;
  close(): Promise<void>;
}

/** Rendered events, built once and handed to every subscriber. */
export interface Chunk {
  readonly bytes: Uint8Array;
  readonly events: number;
}

export interface TopicFeedOptions {
  topic: string;
  format: StreamFormat;
  schemas: Schemas | null;
  /** Most event text in one chunk (a larger event alone): stream.batch.max.bytes. */
  chunkMaxBytes: number;
  /** Most chunk bytes one subscriber may have waiting before it leaves the feed. */
  subscriberMaxBytes: number;
  /** Where the feed starts, when not where its reader did (a stream's consumer turned feed). */
  start?: ReadonlyMap<number, number>;
  /** Called once when the feed has closed (last subscriber gone, failure, or close()). */
  onClosed?: () => void;
}

/** How long one wait of the read loop lasts; it loops until the feed closes. */
const READ_WAIT_MS = 1000;

/** Why a subscriber is no longer fed; its queued chunks are still handed out first. */
export type Departure =
  | { kind: "behind"; resume: Map<number, number> }
  | { kind: "failed"; error: unknown }
  | { kind: "closed" };

export class Subscription {
  readonly #feed: TopicFeed;
  #queue: Chunk[] = [];
  #queuedBytes = 0;
  #wake: (() => void) | null = null;
  #departure: Departure | null = null;

  constructor(feed: TopicFeed) {
    this.#feed = feed;
  }

  /** Set once the feed no longer delivers to this subscriber. */
  get departure(): Departure | null {
    return this.#departure;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Queued chunks for about maxBytes (a larger one alone), waiting up to waitMs for one;
   * [] when none came, or when the subscriber has left and has nothing queued.
   */
  async take(waitMs: number, maxBytes: number): Promise<Chunk[]> {
    if (this.#queue.length === 0 && this.#departure === null && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#wake = null;
          resolve();
        }, waitMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const out: Chunk[] = [];
    let bytes = 0;
    while (this.#queue.length > 0) {
      const chunk = this.#queue[0] as Chunk;
      if (out.length > 0 && bytes + chunk.bytes.byteLength > maxBytes) break;
      out.push(this.#queue.shift() as Chunk);
      bytes += chunk.bytes.byteLength;
    }
    this.#queuedBytes -= bytes;
    return out;
  }

  /** Leaves the feed (which closes when this was its last subscriber). */
  unsubscribe(): Promise<void> {
    this.#leave({ kind: "closed" });
    this.#queue = [];
    this.#queuedBytes = 0;
    return this.#feed.remove(this);
  }

  /** From the feed: false when the chunk would pass the cap (the caller then lets it leave). */
  offer(chunk: Chunk, cap: number): boolean {
    if (this.#queue.length > 0 && this.#queuedBytes + chunk.bytes.byteLength > cap) return false;
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.bytes.byteLength;
    this.#signal();
    return true;
  }

  /** From the feed: no more chunks come; the reason is kept for the subscriber. */
  leave(departure: Departure): void {
    this.#leave(departure);
  }

  #leave(departure: Departure): void {
    this.#departure ??= departure;
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

export class TopicFeed {
  readonly topic: string;
  readonly #reader: FeedReader;
  readonly #options: TopicFeedOptions;
  readonly #cursor = new Cursor();
  readonly #subscribers = new Set<Subscription>();
  #closed = false;
  #running: Promise<void> = Promise.resolve();
  #closing: Promise<void> | null = null;

  constructor(reader: FeedReader, options: TopicFeedOptions) {
    this.topic = options.topic;
    this.#reader = reader;
    this.#options = options;
    for (const [partition, offset] of options.start ?? reader.start) this.#cursor.set(options.topic, partition, offset);
    this.#running = this.#run();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** The next offset the feed will publish, per partition. */
  position(partition: number): number | undefined {
    return this.#cursor.get(this.topic, partition);
  }

  /** True when a stream at these positions would send next exactly what the feed publishes next. */
  isAt(cursor: Cursor): boolean {
    const mine = this.#cursor.positions();
    if (cursor.size !== mine.length) return false;
    return mine.every((p) => cursor.get(p.topic, p.partition) === p.offset);
  }

  /** A subscriber from the feed's current position; null once the feed has closed. */
  subscribe(): Subscription | null {
    if (this.#closed) return null;
    const subscription = new Subscription(this);
    this.#subscribers.add(subscription);
    return subscription;
  }

  /** Called by Subscription.unsubscribe; the last one out closes the feed. */
  remove(subscription: Subscription): Promise<void> {
    this.#subscribers.delete(subscription);
    if (this.#subscribers.size === 0) return this.close();
    return Promise.resolve();
  }

  /** Ends the read, tells the subscribers left, closes the consumer; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shut({ kind: "closed" });
    return this.#closing;
  }

  async #shut(departure: Departure): Promise<void> {
    this.#closed = true;
    for (const s of this.#subscribers) s.leave(departure);
    this.#subscribers.clear();
    this.#options.onClosed?.();
    // The reader's close ends a take in progress; the loop then sees #closed and returns.
    await this.#reader.close().catch(() => {});
    await this.#running;
  }

  async #run(): Promise<void> {
    const { format, schemas, chunkMaxBytes } = this.#options;
    try {
      while (!this.#closed) {
        const messages = await this.#reader.take(READ_WAIT_MS, chunkMaxBytes);
        if (this.#closed || messages.length === 0) continue;
        await prepareRecords(format, schemas, messages);
        if (this.#closed) return;
        this.#publish(messages);
      }
    } catch (error) {
      // Kafka or the Schema Registry failed: every subscriber ends with the error, and its
      // Last-Event-ID (the feed's position before these records) resumes right before them.
      if (!this.#closed) this.#closing ??= this.#shut({ kind: "failed", error });
    }
  }

  #publish(messages: ConsumedMessage[]): void {
    const { format, schemas, chunkMaxBytes } = this.#options;
    let at = 0;
    while (at < messages.length) {
      const before = this.#positions();
      const events: string[] = [];
      let size = 0;
      // Event text can be far larger than the record (base64, escaping, the cursor in every id).
      while (at < messages.length && (events.length === 0 || size < chunkMaxBytes)) {
        const m = messages[at++] as ConsumedMessage;
        this.#cursor.set(m.topic, m.partition, m.offset + 1);
        const event = recordEvent(this.#cursor.toString(), recordJson(m, format, schemas));
        events.push(event);
        size += event.length;
      }
      const chunk: Chunk = { bytes: Buffer.from(events.join("")), events: events.length };
      for (const s of this.#subscribers) {
        if (s.offer(chunk, this.#options.subscriberMaxBytes)) continue;
        this.#subscribers.delete(s);
        s.leave({ kind: "behind", resume: before });
      }
    }
    if (this.#subscribers.size === 0) void this.close();
  }

  #positions(): Map<number, number> {
    return new Map(this.#cursor.positions().map((p) => [p.partition, p.offset]));
  }
}
