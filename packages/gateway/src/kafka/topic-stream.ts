/**
 * Reading a topic for an event stream, with no consumer group: an assign-only librdkafka
 * consumer that never commits. Where it starts is given entirely by the request (a start
 * position, or the offsets of a resume cursor), so any node can serve any stream.
 *
 * As in ConsumerInstance, nothing waits on a libuv threadpool thread: polls have a zero timeout
 * and a waiting read sleeps on librdkafka's queue-not-empty callback. Records are polled only
 * when the stream's reader wants more; librdkafka's own prefetch stays bounded by
 * queued.max.messages.kbytes, so a slow reader leaves the data in Kafka.
 */
import Kafka from "@confluentinc/kafka-javascript";
import type { GatewayConfig } from "../config.ts";
import { ErrorCode, RestError } from "../errors.ts";
import { type ConsumedMessage, messageSize } from "./consumer-instance.ts";
import { kafkaFailure, QueuePoller } from "./queue-poller.ts";

export type StartPosition = { kind: "earliest" } | { kind: "latest" } | { kind: "timestamp"; ms: number };

export interface TopicStreamOptions {
  topic: string;
  partitions: number[];
  from: StartPosition;
  /** Next offset per partition from a resume cursor; these partitions ignore `from`. */
  resume: Map<number, number>;
  clientId: string;
  /** How long connecting and each offset lookup may take; 10 s by default. */
  kafkaTimeoutMs?: number;
}

const KAFKA_TIMEOUT_MS = 10_000;
/** ListOffsets' special timestamps. */
const LATEST = -1;
const EARLIEST = -2;

export class TopicStream {
  readonly topic: string;
  /** Where each partition starts: concrete offsets, so a cursor can name them from the first event. */
  readonly start = new Map<number, number>();
  readonly #consumer: InstanceType<typeof Kafka.KafkaConsumer>;
  #buffer: ConsumedMessage[] = [];
  readonly #poller: QueuePoller;
  #closed = false;
  #taking: Promise<unknown> = Promise.resolve();
  readonly #kafkaTimeoutMs: number;

  private constructor(
    topic: string,
    consumer: InstanceType<typeof Kafka.KafkaConsumer>,
    poller: QueuePoller,
    kafkaTimeoutMs: number,
  ) {
    this.topic = topic;
    this.#kafkaTimeoutMs = kafkaTimeoutMs;
    this.#consumer = consumer;
    this.#poller = poller;
  }

  static async open(config: GatewayConfig, options: TopicStreamOptions): Promise<TopicStream> {
    let poller: QueuePoller | undefined;
    // Streams keep the 1 MiB prefetch they were measured and tested with; the larger default
    // serves v2 instances read in a loop (consumer-instance.ts, read-ahead).
    const prefetch = Math.min(config.consumer.prefetchMaxBytes, 1024 * 1024);
    const prefetchKb = Math.max(1, Math.ceil(prefetch / 1024));
    const consumer = new Kafka.KafkaConsumer({
      "bootstrap.servers": config.bootstrapServers,
      "client.id": options.clientId,
      "queued.max.messages.kbytes": prefetchKb,
      "fetch.max.bytes": Math.max(prefetch, 1024 * 1024),
      "fetch.message.max.bytes": Math.max(prefetch, 65_536),
      // As for consumer instances (librdkafka-config.ts): with the small prefetch cap, librdkafka's
      // default 1 s back-off after a full queue held a stream reading a backlog to ~2k records/s.
      "fetch.queue.backoff.ms": 20,
      ...config.kafka.client,
      // The binding insists on a group id; an assign-only consumer never joins the group or
      // commits to it. A resume position the log no longer holds continues from the oldest
      // record still there.
      "group.id": `wharf-stream-${config.id}`,
      "enable.auto.commit": false,
      "enable.auto.offset.store": false,
      "auto.offset.reset": "earliest",
      queue_non_empty_cb: () => poller?.signal(),
    } as Kafka.ConsumerGlobalConfig);
    poller = new QueuePoller(consumer);
    const kafkaTimeoutMs = options.kafkaTimeoutMs ?? KAFKA_TIMEOUT_MS;
    const stream = new TopicStream(options.topic, consumer, poller, kafkaTimeoutMs);
    await new Promise<void>((resolve, reject) =>
      consumer.connect({ timeout: kafkaTimeoutMs }, (error) =>
        error ? reject(new RestError(503, ErrorCode.KafkaRetriable, `Kafka unavailable: ${error.message}`)) : resolve(),
      ),
    );
    try {
      await stream.#resolveStart(options);
      consumer.assign([...stream.start].map(([partition, offset]) => ({ topic: options.topic, partition, offset })));
      consumer.setDefaultConsumeTimeout(0);
    } catch (error) {
      await stream.close();
      throw error instanceof RestError ? error : kafkaFailure(error as Kafka.LibrdKafkaError);
    }
    return stream;
  }

  /** One ListOffsets round for every partition without a resume offset. */
  async #resolveStart({ topic, partitions, from, resume }: TopicStreamOptions): Promise<void> {
    const open = partitions.filter((p) => !resume.has(p));
    for (const p of partitions) {
      const offset = resume.get(p);
      if (offset !== undefined) this.start.set(p, offset);
    }
    if (open.length === 0) return;
    const at = from.kind === "earliest" ? EARLIEST : from.kind === "latest" ? LATEST : from.ms;
    const found = await this.#offsetsAt(
      topic,
      open.map((partition) => ({ partition, at })),
    );
    // No record at or after the timestamp: start at the end, where the next one will be.
    const past = open.filter((p) => (found.get(p) ?? -1) < 0);
    const ends =
      past.length > 0
        ? await this.#offsetsAt(
            topic,
            past.map((partition) => ({ partition, at: LATEST })),
          )
        : null;
    for (const p of open) {
      const offset = found.get(p) ?? -1;
      this.start.set(p, offset >= 0 ? offset : Math.max(0, ends?.get(p) ?? 0));
    }
  }

  /** Each partition's end offset now (the next offset to be written). */
  ends(): Promise<Map<number, number>> {
    return this.#offsetsAt(
      this.topic,
      [...this.start.keys()].map((partition) => ({ partition, at: LATEST })),
    );
  }

  #offsetsAt(topic: string, query: Array<{ partition: number; at: number }>): Promise<Map<number, number>> {
    return new Promise((resolve, reject) =>
      this.#consumer.offsetsForTimes(
        query.map((q) => ({ topic, partition: q.partition, offset: q.at })),
        this.#kafkaTimeoutMs,
        (error, offsets) => {
          if (error) return reject(kafkaFailure(error));
          resolve(new Map(offsets.map((o) => [o.partition, o.offset])));
        },
      ),
    );
  }

  /** Records for up to maxBytes (a larger one alone), waiting up to waitMs for the first. */
  take(waitMs: number, maxBytes: number): Promise<ConsumedMessage[]> {
    const run = this.#take(waitMs, maxBytes);
    this.#taking = run.catch(() => {});
    return run;
  }

  async #take(waitMs: number, maxBytes: number): Promise<ConsumedMessage[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (this.#closed) return [];
      if (this.#buffer.length > 0) {
        const out: ConsumedMessage[] = [];
        let bytes = 0;
        while (this.#buffer.length > 0) {
          const size = messageSize(this.#buffer[0] as ConsumedMessage);
          if (out.length > 0 && bytes + size > maxBytes) break;
          out.push(this.#buffer.shift() as ConsumedMessage);
          bytes += size;
        }
        return out;
      }
      if (Date.now() >= deadline) return [];
      const polled = await this.#poller.poll();
      if (polled.length > 0) {
        this.#buffer.push(...polled);
        continue;
      }
      if (this.#closed) return [];
      await this.#poller.waitForData(deadline);
    }
  }

  /** Gives back records taken but not sent; the next take returns them first. */
  unread(messages: ConsumedMessage[]): void {
    this.#buffer.unshift(...messages);
  }

  /** Ends a take in progress, then disconnects; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer = [];
    this.#poller.signal();
    await this.#taking;
    await new Promise<void>((resolve) => this.#consumer.disconnect(() => resolve()));
  }
}
