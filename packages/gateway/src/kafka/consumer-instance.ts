/**
 * One v2 consumer instance: a real librdkafka consumer living on its owner node.
 *
 * Consumption never blocks a libuv threadpool thread for a long-poll: every read is a
 * zero-timeout poll, and a waiting request sleeps on librdkafka's queue-not-empty callback
 * (or its deadline) instead. Offsets are stored only for records handed to a client, so an
 * auto-commit never covers a record that no client received.
 */
import Kafka from "@confluentinc/kafka-javascript";
import type { GatewayConfig } from "../config.ts";
import { ErrorCode, kafkaRetriable, RestError } from "../errors.ts";
import type { SchemaFormat } from "../schemas/index.ts";
import { consumerProperties } from "./librdkafka-config.ts";
import { kafkaFailure, QueuePoller } from "./queue-poller.ts";

export { kafkaFailure } from "./queue-poller.ts";

export interface TopicPartition {
  topic: string;
  partition: number;
}
export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

/** What a consumer was created with; stored with its lease so another node can adopt it. */
export interface ConsumerSettings {
  group: string;
  name: string;
  format: "binary" | "json" | SchemaFormat;
  autoOffsetReset: string | null;
  autoCommit: boolean;
  /** Bytes a read waits for before answering early; null answers as soon as any record is there. */
  fetchMinBytes: number | null;
  requestTimeoutMs: number | null;
  /**
   * The principal that created it (authentication on); only that principal may use it. It travels
   * with the instance through Redis, so an adopting node enforces it too.
   */
  principal?: string | null;
}

export type Subscription =
  | { kind: "topics"; topics: string[] }
  | { kind: "pattern"; pattern: string }
  | { kind: "assignment"; partitions: TopicPartition[] }
  | { kind: "none" };

export type ConsumedMessage = Kafka.Message;

/** commitCb exists in the binding (an async commit with a callback) but not in its typings. */
type RawConsumer = InstanceType<typeof Kafka.KafkaConsumer> & {
  commitCb(offsets: TopicPartitionOffset[], cb: (error: Kafka.LibrdKafkaError | null) => void): void;
};

/** Kafka errors on the way to a group's coordinator that pass by themselves (and a local timeout). */
const coordinatorBusy = new Set([14, 15, 16, -185]);
const OFFSET_BEGINNING = -2;
const OFFSET_END = -1;
const partitionKey = (p: TopicPartition) => `${p.topic}\u0000${p.partition}`;

/** What an instance tells its owner (metrics). */
export interface InstanceHooks {
  /** Records taken from librdkafka ahead of the client's next read. */
  readAhead?(records: number): void;
}

/** A read ahead stops polling this long after the answer it follows, even when not full. */
const READ_AHEAD_WINDOW_MS = 1000;

const illegalState = (message: string) => new RestError(409, ErrorCode.IllegalState, `Illegal state: ${message}`);

/**
 * Records to ask librdkafka for when `room` bytes are left in an answer: about one per KiB, at
 * least what a poll always took (500) and at most 5,000. A poll only takes what is already
 * queued, so asking for more than fits moves at most the prefetch into the read buffer.
 */
export function pollSize(room: number): number {
  return Math.min(5000, Math.max(500, Math.ceil(room / 1024)));
}

export function messageSize(m: ConsumedMessage): number {
  return (m.key ? (typeof m.key === "string" ? Buffer.byteLength(m.key) : m.key.length) : 0) + (m.value?.length ?? 0);
}

export class ConsumerInstance {
  readonly settings: ConsumerSettings;
  subscription: Subscription = { kind: "none" };
  lastUsed = Date.now();
  readonly #consumer: RawConsumer;
  readonly #kafkaTimeoutMs = 10_000;
  #buffer: ConsumedMessage[] = [];
  /** Next offset to commit per partition: one past the last record handed to a client. */
  #delivered = new Map<string, TopicPartitionOffset>();
  readonly #poller: QueuePoller;
  /** Serializes operations: librdkafka consumers are not meant for concurrent reads. */
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Where auto.offset.reset starts a partition: ListOffsets' -2 (earliest), -1 (latest), or null. */
  #resetTo: number | null = null;
  /** Records the read under way has taken but not handed out yet (see #onRebalance). */
  #collecting: ConsumedMessage[] | null = null;
  /** Rebalances seen so far (a poll that overlapped one is checked, see #poll). */
  #rebalances = 0;
  /** #rebalances when #forgetRevoked last asked librdkafka what the group assigned. */
  #heldCheckedAt = -1;
  readonly #hooks: InstanceHooks;
  readonly #readAheadMaxBytes: number;
  readonly #idlePauseMs: number;
  /** Operations queued behind the running one (see #serial): a read ahead gives way to them. */
  #waiting = 0;
  /** Reads in a row that found a backlog: from the second on, the instance reads ahead. */
  #backlogReads = 0;
  /** Bytes the last #collectInto took, and whether it had to wait for them. */
  #lastCollect = { bytes: 0, waited: false };
  #aheadScheduled = false;
  #filling = false;
  /** A failure a read ahead met, thrown by the next read instead. */
  #aheadError: unknown = null;
  /** Partitions paused because nobody read the instance, and where each goes on (#pauseIfIdle). */
  #paused: TopicPartitionOffset[] | null = null;
  #idleTimer: NodeJS.Timeout | null = null;

  private constructor(
    config: GatewayConfig,
    settings: ConsumerSettings,
    consumer: RawConsumer,
    poller: QueuePoller,
    hooks: InstanceHooks,
  ) {
    this.settings = settings;
    this.#hooks = hooks;
    this.#consumer = consumer;
    this.#poller = poller;
    this.#readAheadMaxBytes = config.consumer.readAheadMaxBytes;
    this.#idlePauseMs = config.consumer.idlePauseMs;
  }

  static async create(
    config: GatewayConfig,
    settings: ConsumerSettings,
    clientId: string,
    hooks: InstanceHooks = {},
  ): Promise<ConsumerInstance> {
    let poller: QueuePoller | undefined;
    let consumer: RawConsumer;
    try {
      consumer = new Kafka.KafkaConsumer({
        ...consumerProperties(config, settings.group, clientId),
        "enable.auto.commit": settings.autoCommit,
        "enable.auto.offset.store": false,
        // A client that stops polling loses its instance after consumer.instance.timeout.ms anyway.
        "max.poll.interval.ms": config.consumer.instanceTimeoutMs + 60_000,
        ...(settings.autoOffsetReset ? { "auto.offset.reset": settings.autoOffsetReset } : {}),
        queue_non_empty_cb: () => poller?.signal(),
        // The binding then reports each rebalance ("rebalance" below) and assigns as librdkafka would.
        rebalance_cb: true,
      } as Kafka.ConsumerGlobalConfig) as RawConsumer;
    } catch (error) {
      throw new RestError(
        422,
        ErrorCode.InvalidConsumerConfig,
        `Invalid consumer configuration: ${(error as Error).message}`,
      );
    }
    poller = new QueuePoller(consumer);
    const instance = new ConsumerInstance(config, settings, consumer, poller, hooks);
    consumer.on("rebalance", (_event, partitions) => instance.#onRebalance(partitions));
    const reset = settings.autoOffsetReset ?? config.kafka.consumer["auto.offset.reset"] ?? "latest";
    instance.#resetTo = ["earliest", "smallest", "beginning"].includes(reset)
      ? OFFSET_BEGINNING
      : ["latest", "largest", "end"].includes(reset)
        ? OFFSET_END
        : null;
    await new Promise<void>((resolve, reject) =>
      consumer.connect({ timeout: 10_000 }, (error) =>
        error ? reject(new RestError(503, ErrorCode.KafkaRetriable, `Kafka unavailable: ${error.message}`)) : resolve(),
      ),
    );
    consumer.setDefaultConsumeTimeout(0);
    return instance;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True while fetching is paused because nobody read the instance for consumer.idle.pause.ms. */
  get fetchPaused(): boolean {
    return this.#paused !== null;
  }

  touch(): void {
    this.lastUsed = Date.now();
  }

  /** `rearm` false: the idle check itself, after which nothing is checked until the next operation. */
  #serial<T>(operation: () => Promise<T> | T, rearm = true): Promise<T> {
    this.#waiting++;
    // A read ahead waiting for librdkafka's next fetch stops waiting and gives way.
    if (this.#filling) this.#poller.signal();
    const run = this.#chain.then(() => {
      this.#waiting--;
      if (this.#closed) throw new RestError(404, ErrorCode.ConsumerInstanceNotFound, "Consumer instance not found.");
      return operation();
    });
    this.#chain = run
      .catch(() => {})
      .then(() => {
        if (rearm) this.#armIdleCheck();
      });
    return run;
  }

  subscribe(next: Subscription & { kind: "topics" | "pattern" }): Promise<void> {
    return this.#serial(() => {
      const current = this.subscription.kind;
      if (current === "assignment" || (current !== "none" && current !== next.kind)) {
        throw illegalState("Subscription to topics, partitions and pattern are mutually exclusive");
      }
      const topics = next.kind === "topics" ? next.topics : [`^(${next.pattern})$`];
      this.#buffer = [];
      if (topics.length === 0) this.#consumer.unsubscribe();
      else this.#consumer.subscribe(topics);
      this.subscription = topics.length === 0 ? { kind: "none" } : next;
    });
  }

  assign(partitions: TopicPartition[]): Promise<void> {
    return this.#serial(async () => {
      if (this.subscription.kind === "topics" || this.subscription.kind === "pattern") {
        throw illegalState("Subscription to topics, partitions and pattern are mutually exclusive");
      }
      const start = await this.#startOffsets(partitions);
      this.#buffer = [];
      this.#consumer.assign(start);
      this.subscription = { kind: "assignment", partitions };
    });
  }

  /**
   * Where each assigned partition starts: its committed offset, else where auto.offset.reset says.
   * Given to assign() explicitly so that librdkafka does not look the committed offsets up itself:
   * when that lookup meets a coordinator that is not (yet) one, as on a fresh cluster or while a
   * broker restarts, librdkafka 2.x never retries it and the partition never starts fetching
   * (librdkafka issue #5586; seen here on a fresh 3-broker stack).
   */
  async #startOffsets(partitions: TopicPartition[]): Promise<Kafka.Assignment[]> {
    const deadline = Date.now() + this.#kafkaTimeoutMs;
    for (;;) {
      try {
        const committed = await this.#fetchCommitted(partitions, Math.max(1000, deadline - Date.now()));
        return partitions.map(({ topic, partition }) => {
          const found = committed.find((c) => c.topic === topic && c.partition === partition);
          const offset = typeof found?.offset === "number" && found.offset >= 0 ? found.offset : this.#resetTo;
          return offset === null ? { topic, partition } : { topic, partition, offset };
        });
      } catch (error) {
        const failure = error as { code?: number; message?: string };
        // Refusals (a group Wharf may not read: 403) are the client's to see as they are.
        if (!coordinatorBusy.has(failure.code ?? 0)) throw kafkaFailure(failure);
        if (Date.now() >= deadline) throw kafkaRetriable(`cannot read committed offsets: ${failure.message}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  unsubscribe(): Promise<void> {
    return this.#serial(() => {
      this.#buffer = [];
      this.#consumer.unsubscribe();
      if (this.subscription.kind === "assignment") this.#consumer.unassign();
      this.subscription = { kind: "none" };
    });
  }

  subscribedTopics(): string[] {
    if (this.subscription.kind === "topics") return [...this.subscription.topics];
    if (this.subscription.kind === "pattern") return [...new Set(this.assignments().map((p) => p.topic))];
    return [];
  }

  assignments(): TopicPartition[] {
    return this.#consumer.assignments().map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Seeks each partition; offsets are the next record to read (no +1, as in Confluent). */
  seek(offsets: TopicPartitionOffset[]): Promise<void> {
    return this.#serial(async () => {
      // A paused partition goes on where the client says, not where the pause left it.
      await this.#resumeIfPaused();
      this.touch();
      const assigned = new Set(this.assignments().map((p) => `${p.topic}\u0000${p.partition}`));
      for (const o of offsets) {
        if (!assigned.has(`${o.topic}\u0000${o.partition}`)) {
          throw illegalState(`No current assignment for partition ${o.topic}-${o.partition}`);
        }
      }
      for (const o of offsets) {
        this.#buffer = this.#buffer.filter((m) => m.topic !== o.topic || m.partition !== o.partition);
        // A client that rewinds (its answer was lost on the way) must not have a no-body commit
        // write the position it rewound from: the records after the seek are handed out again.
        this.#delivered.delete(partitionKey(o));
        await new Promise<void>((resolve, reject) =>
          this.#consumer.seek(o, this.#kafkaTimeoutMs, (error) => (error ? reject(kafkaFailure(error)) : resolve())),
        );
      }
    });
  }

  seekToBeginning(partitions: TopicPartition[]): Promise<void> {
    return this.seek(partitions.map((p) => ({ ...p, offset: OFFSET_BEGINNING })));
  }

  seekToEnd(partitions: TopicPartition[]): Promise<void> {
    return this.seek(partitions.map((p) => ({ ...p, offset: OFFSET_END })));
  }

  async seekToTimestamps(times: Array<TopicPartition & { timestamp: number }>): Promise<void> {
    const offsets = await new Promise<Kafka.TopicPartitionOffset[]>((resolve, reject) =>
      this.#consumer.offsetsForTimes(
        times.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.timestamp })),
        this.#kafkaTimeoutMs,
        (error, result) => (error ? reject(kafkaFailure(error)) : resolve(result)),
      ),
    );
    // No record at or after the timestamp: librdkafka answers -1 (end), which is where to go.
    await this.seek(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
  }

  /**
   * Reads records: answers once minBytes have arrived (any record when null), maxBytes would be
   * exceeded, or the timeout passes. Records kept for a later read stay in a small buffer.
   *
   * `gone` is the reader's connection: once it has closed (a load balancer's idle timeout, a
   * client that gave up), the read stops waiting and gives back whatever it collected, so those
   * records go to the next read instead of to a dead socket, and count as neither delivered nor
   * committed. A reader that leaves after its answer was written cannot be told apart here.
   */
  read(
    timeoutMs: number,
    maxBytes: number,
    minBytes: number | null,
    gone?: AbortSignal,
    admit?: (messages: ConsumedMessage[]) => Promise<number>,
  ): Promise<ConsumedMessage[]> {
    return this.#serial(async () => {
      this.#forgetRevoked();
      const out = await this.#collect(timeoutMs, maxBytes, minBytes, gone);
      this.touch();
      if (gone?.aborted) {
        this.#buffer.unshift(...out);
        return [];
      }
      // `admit` (schema formats: decoding needs the registry) says how many records from the
      // front are handed out; the others go back to the buffer, all of them if it throws.
      let admitted = out.length;
      if (admit && out.length > 0) {
        try {
          admitted = await this.#holding(out, () => admit(out));
        } catch (error) {
          this.#buffer.unshift(...out);
          throw error;
        }
      }
      this.#buffer.unshift(...out.slice(admitted));
      const delivered = out.slice(0, admitted);
      this.#markDelivered(delivered);
      this.#readAheadIfBehind(maxBytes, admitted === out.length);
      return delivered;
    });
  }

  /**
   * A client reading a backlog in a loop waits, between two answers, for librdkafka to fetch
   * what its prefetch (consumer.prefetch.max.bytes) cannot hold, and the gateway waits for the
   * client meanwhile. From the second answer in a row that found records waiting and was large
   * (at least a quarter of what a read ahead may take), the instance takes what librdkafka
   * fetches while the answer is on its way, up to the client's max_bytes and
   * consumer.read.ahead.max.bytes, so the next read finds it here (with the 2 MiB prefetch: from
   * 0.44 to 0.61 of a plain consumer's throughput, medians, loadtest/RESULTS.md round 8). A
   * client that reads once, reads small answers or tails the topic never starts it; what it took
   * waits in the buffer like any record a read left, for the next read (an abandoned instance
   * holds it until it expires).
   */
  #readAheadIfBehind(maxBytes: number, allAdmitted: boolean): void {
    const target = Math.min(maxBytes, this.#readAheadMaxBytes);
    const { bytes, waited } = this.#lastCollect;
    const behind = allAdmitted && !waited && target > 0 && bytes * 4 >= target;
    this.#backlogReads = behind ? this.#backlogReads + 1 : 0;
    if (this.#backlogReads < 2 || this.#aheadScheduled) return;
    this.#aheadScheduled = true;
    // After this answer is rendered and written, which happens in the turn its read resolves.
    setImmediate(() => {
      this.#aheadScheduled = false;
      if (this.#waiting > 0 || this.#closed) return;
      this.#serial(() => this.#fillAhead(target)).catch(() => {});
    });
  }

  /** Polls until `target` bytes are buffered, another operation is queued, or a second passed. */
  async #fillAhead(target: number): Promise<void> {
    if (this.subscription.kind === "none") return;
    const until = Date.now() + READ_AHEAD_WINDOW_MS;
    let bytes = 0;
    for (const m of this.#buffer) bytes += messageSize(m);
    this.#filling = true;
    try {
      while (bytes < target && this.#waiting === 0 && !this.#closed && Date.now() < until) {
        const polled = await this.#poll(pollSize(target - bytes));
        if (polled.length === 0) {
          await this.#poller.waitForData(until);
          continue;
        }
        for (const m of polled) bytes += messageSize(m);
        this.#buffer = this.#buffer.length === 0 ? polled : this.#buffer.concat(polled);
        this.#hooks.readAhead?.(polled.length);
      }
    } catch (error) {
      this.#aheadError = error;
    } finally {
      this.#filling = false;
    }
  }

  /** After each operation: checks consumer.idle.pause.ms later, unless a check is due already. */
  #armIdleCheck(delayMs = this.#idlePauseMs): void {
    if (this.#idlePauseMs === 0 || this.#idleTimer !== null || this.#closed || this.#paused) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      const idleFor = Date.now() - this.lastUsed;
      if (idleFor < this.#idlePauseMs) return this.#armIdleCheck(this.#idlePauseMs - idleFor);
      this.#serial(() => this.#pauseIfIdle(), false).catch(() => {});
    }, delayMs);
    this.#idleTimer.unref();
  }

  /**
   * An instance nobody reads would keep up to consumer.prefetch.max.bytes (plus a fetch) per
   * partition in librdkafka until it expires. Pausing its partitions frees that queue. Only
   * partitions librdkafka has handed records from since their last assign or seek are paused:
   * their position (one past the last record taken, buffered ones included) is where the
   * next read resumes them, with a seek, because a resume alone restarts fetching only at the
   * broker thread's next wake-up (0.5 to 1 s, measured). Buffered records stay, so nothing is
   * skipped or read twice. That seek also leaves a resumed partition unpausable until a read
   * takes a record from it: a client polling with a timeout shorter than the fetch a resume
   * starts would otherwise see each fetch dropped by the next pause, and never a record.
   */
  #pauseIfIdle(): void {
    if (this.#paused || this.subscription.kind === "none") return;
    if (Date.now() - this.lastUsed < this.#idlePauseMs) return;
    const assigned = this.assignments();
    if (assigned.length === 0) return;
    const positions = this.#consumer.position(assigned).filter((p) => p.offset >= 0);
    if (positions.length === 0) return;
    this.#consumer.pause(positions.map(({ topic, partition }) => ({ topic, partition })));
    this.#paused = positions.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
  }

  async #resumeIfPaused(): Promise<void> {
    const paused = this.#paused;
    if (!paused) return;
    this.#paused = null;
    // librdkafka keeps a partition paused through a rebalance that revokes and assigns it again:
    // everything assigned is resumed. A partition the rebalance touched starts from the group's
    // committed offset (#onRebalance took it out of `paused`); the others from their position.
    const assigned = this.assignments();
    const current = new Set(assigned.map(partitionKey));
    const held = paused.filter((p) => current.has(partitionKey(p)));
    try {
      if (assigned.length > 0) this.#consumer.resume(assigned);
      for (const p of held) {
        await new Promise<void>((resolve, reject) =>
          this.#consumer.seek(p, this.#kafkaTimeoutMs, (error) => (error ? reject(error) : resolve())),
        );
      }
    } catch (error) {
      throw kafkaFailure(error as { code?: number; message?: string });
    }
  }

  /**
   * A read for an event stream: the records are handed to `accept` inside the serialized
   * operation, so nothing else runs between taking them and writing them. `accept` answers how
   * many of them (from the front) it took and which of those it wrote: only these count as
   * delivered; the others it took are dropped on purpose, and those it did not take go back to
   * the buffer for the next read. Null (its stream has gone) gives every record back.
   */
  readInto(
    timeoutMs: number,
    maxBytes: number,
    accept: (
      messages: ConsumedMessage[],
    ) =>
      | { taken: number; delivered: ConsumedMessage[] }
      | null
      | Promise<{ taken: number; delivered: ConsumedMessage[] } | null>,
  ): Promise<void> {
    return this.#serial(async () => {
      this.#forgetRevoked();
      const out = await this.#collect(timeoutMs, maxBytes, null);
      this.touch();
      if (out.length === 0) return;
      let result: { taken: number; delivered: ConsumedMessage[] } | null = null;
      try {
        result = await this.#holding(out, async () => accept(out));
      } finally {
        this.#buffer.unshift(...out.slice(result?.taken ?? 0));
        if (result) this.#markDelivered(result.delivered);
      }
    });
  }

  async #collect(
    timeoutMs: number,
    maxBytes: number,
    minBytes: number | null,
    gone?: AbortSignal,
  ): Promise<ConsumedMessage[]> {
    if (this.subscription.kind === "none") {
      throw illegalState("Consumer is not subscribed to any topics or assigned any partitions");
    }
    if (this.#aheadError !== null) {
      const error = this.#aheadError;
      this.#aheadError = null;
      throw error;
    }
    await this.#resumeIfPaused();
    const deadline = Date.now() + timeoutMs;
    const out: ConsumedMessage[] = [];
    this.#collecting = out;
    try {
      return await this.#collectInto(out, deadline, maxBytes, minBytes, gone);
    } finally {
      this.#collecting = null;
    }
  }

  async #collectInto(
    out: ConsumedMessage[],
    deadline: number,
    maxBytes: number,
    minBytes: number | null,
    gone?: AbortSignal,
  ): Promise<ConsumedMessage[]> {
    let bytes = 0;
    let waited = false;
    const threshold = minBytes ?? 1;
    // A poll that came back full may have left more queued in librdkafka: take it in this answer
    // rather than in another request's round trip. So may the poll that left records in the
    // buffer: an answer of only those (a few records after one cut by max_bytes) would cost the
    // client a round trip for nothing.
    let more = this.#buffer.length > 0;
    for (;;) {
      const buffer = this.#buffer;
      let taken = 0;
      let full = false;
      for (; taken < buffer.length; taken++) {
        const size = messageSize(buffer[taken] as ConsumedMessage);
        // Unlike REST Proxy, a single record larger than max_bytes is still returned alone,
        // so it cannot block the partition forever.
        if ((out.length > 0 || taken > 0) && bytes + size > maxBytes) {
          full = true;
          break;
        }
        bytes += size;
      }
      if (taken > 0) {
        // `out` stays the same array: a rebalance during the read filters it in place.
        for (let i = 0; i < taken; i++) out.push(buffer[i] as ConsumedMessage);
        this.#buffer = taken === buffer.length ? [] : buffer.slice(taken);
      }
      if (full || (out.length > 0 && bytes >= threshold && !more) || Date.now() >= deadline || gone?.aborted) break;
      const wanted = pollSize(maxBytes - bytes);
      const polled = await this.#poll(wanted);
      more = polled.length === wanted && bytes < maxBytes;
      if (polled.length > 0) {
        this.#buffer = this.#buffer.length === 0 ? polled : this.#buffer.concat(polled);
        continue;
      }
      if (out.length > 0 && bytes >= threshold) break;
      waited = true;
      await this.#poller.waitForData(deadline);
    }
    this.#lastCollect = { bytes, waited };
    return out;
  }

  /**
   * Runs `use` on records taken but not handed out yet; one that waits (a schema format fetching
   * schemas) lets rebalances run meanwhile, and they drop the stale records from `out` in place,
   * as they do while the records are collected.
   */
  async #holding<T>(out: ConsumedMessage[], use: () => Promise<T>): Promise<T> {
    this.#collecting = out;
    try {
      return await use();
    } finally {
      this.#collecting = null;
    }
  }

  /**
   * A partition revoked or assigned (again) starts over from the group's committed offset, for
   * this instance or another: what this instance still holds of it is stale. Buffered records of
   * it would otherwise be handed out after its new owner had read and committed past them (the
   * fault suite saw a group's records delivered again below its commit), and a no-body commit
   * would write a position from before the rebalance. Dropped, they are read again from the
   * committed offset by whoever holds the partition now.
   */
  #onRebalance(partitions: TopicPartition[]): void {
    this.#rebalances++;
    const touched = new Set(partitions.map(partitionKey));
    for (const key of touched) this.#delivered.delete(key);
    // A partition assigned again starts from the group's committed offset, not where a pause left it.
    // (librdkafka keeps it paused though: the resume still covers it.)
    if (this.#paused) this.#paused = this.#paused.filter((p) => !touched.has(partitionKey(p)));
    const fresh = (m: ConsumedMessage) => !touched.has(partitionKey(m));
    this.#buffer = this.#buffer.filter(fresh);
    const collecting = this.#collecting;
    if (collecting) collecting.splice(0, collecting.length, ...collecting.filter(fresh));
  }

  /**
   * One poll. When a rebalance was reported while it ran, its records may be from before the
   * rebalance (librdkafka hands them out in the poll that serves a revoke) or from after it (a
   * poll that waited for a busy threadpool and ran on the new assignment): librdkafka's position
   * tells them apart. It is one past the last record handed out of the current assignment, and a
   * rebalance that stops a partition resets it; records it is not past are from before and are
   * dropped (read again from the committed offset). Never the other way round: dropping records
   * of the current assignment would skip them.
   */
  async #poll(count: number): Promise<ConsumedMessage[]> {
    const before = this.#rebalances;
    const polled = await this.#poller.poll(count);
    if (this.#rebalances === before || polled.length === 0) return polled;
    const last = new Map<string, ConsumedMessage>();
    for (const m of polled) last.set(partitionKey(m), m);
    const stale = new Set<string>();
    for (const [key, m] of last) {
      let position: number | undefined;
      try {
        position = this.#consumer.position([{ topic: m.topic, partition: m.partition }])[0]?.offset;
      } catch {
        // Not assigned any more.
      }
      if (typeof position !== "number" || position <= m.offset) stale.add(key);
    }
    return stale.size === 0 ? polled : polled.filter((m) => !stale.has(partitionKey(m)));
  }

  #markDelivered(messages: ConsumedMessage[]): void {
    if (messages.length === 0) return;
    const latest = new Map<string, TopicPartitionOffset>();
    // Newest first, skipping runs of one partition (librdkafka hands them over in runs): one
    // entry per partition, not a key string per record.
    let topic: string | null = null;
    let partition = -1;
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i] as ConsumedMessage;
      if (m.partition === partition && m.topic === topic) continue;
      topic = m.topic;
      partition = m.partition;
      const key = `${topic}\u0000${partition}`;
      if (!latest.has(key)) latest.set(key, { topic, partition, offset: m.offset + 1 });
    }
    for (const [key, value] of latest) this.#delivered.set(key, value);
    if (this.settings.autoCommit) {
      try {
        this.#consumer.offsetsStore([...latest.values()]);
      } catch {
        // The partition was revoked meanwhile; its new owner re-reads from the committed offset.
      }
    }
  }

  /**
   * Forgets what was handed out of partitions this instance no longer holds. Kafka's classic group
   * protocol takes a commit from any member of the current generation for any partition, so a
   * no-body commit of a revoked partition's old position would move the group's committed offset
   * back under its new owner: the fault suite saw a group re-read thousands of records it had
   * committed after a broker kill moved partitions between instances.
   */
  #forgetRevoked(): void {
    if (this.#delivered.size === 0) return;
    // librdkafka's assignment() is a synchronous round trip to its main thread (milliseconds of
    // a blocked event loop on a busy machine): not asked on every read. After assign() the
    // partitions held are the ones given; a subscription's change only with a rebalance.
    let partitions: TopicPartition[];
    if (this.subscription.kind === "assignment") {
      partitions = this.subscription.partitions;
    } else {
      if (this.subscription.kind !== "none" && this.#heldCheckedAt === this.#rebalances) return;
      this.#heldCheckedAt = this.#rebalances;
      partitions = this.assignments();
    }
    const held = new Set(partitions.map((p) => `${p.topic}\u0000${p.partition}`));
    for (const key of this.#delivered.keys()) if (!held.has(key)) this.#delivered.delete(key);
  }

  /**
   * Commits the given offsets (already +1) or, with none, everything handed to clients so far of
   * the partitions the instance holds now (REST Proxy's commitSync commits the same).
   */
  commit(offsets: TopicPartitionOffset[] | null): Promise<void> {
    return this.#serial(async () => {
      if (!offsets) this.#forgetRevoked();
      const toCommit = offsets ?? [...this.#delivered.values()];
      if (toCommit.length === 0) return;
      await new Promise<void>((resolve, reject) =>
        this.#consumer.commitCb(toCommit, (error) => (error ? reject(kafkaFailure(error)) : resolve())),
      );
      this.touch();
    });
  }

  /**
   * Where each partition continues for the next reader (an event stream names it in its resume
   * cursor before sending anything of it): the first buffered record, else one past the last
   * record taken from librdkafka, else the group's committed offset, else where
   * auto.offset.reset starts now. Partitions with none of these are left out.
   */
  nextPositions(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return this.#serial(async () => {
      const key = (p: TopicPartition) => `${p.topic}\u0000${p.partition}`;
      const found = new Map<string, number>();
      const wanted = new Set(partitions.map(key));
      for (const m of this.#buffer) {
        if (wanted.has(key(m)) && !found.has(key(m))) found.set(key(m), m.offset);
      }
      const missing = () => partitions.filter((p) => !found.has(key(p)));
      const take = (offsets: Kafka.TopicPartitionOffset[]) => {
        for (const o of offsets) if (o.offset >= 0 && wanted.has(key(o))) found.set(key(o), o.offset);
      };
      if (missing().length > 0) {
        try {
          take(this.#consumer.position(missing()));
        } catch {
          // Not assigned (any more): left out.
        }
      }
      if (missing().length > 0) {
        take(await this.#fetchCommitted(missing()).catch((error) => Promise.reject(kafkaFailure(error))));
      }
      const resetTo = this.#resetTo;
      if (missing().length > 0 && resetTo !== null) {
        take(
          await new Promise<Kafka.TopicPartitionOffset[]>((resolve, reject) =>
            this.#consumer.offsetsForTimes(
              missing().map((p) => ({ topic: p.topic, partition: p.partition, offset: resetTo })),
              this.#kafkaTimeoutMs,
              (error, result) => (error ? reject(kafkaFailure(error)) : resolve(result)),
            ),
          ),
        );
      }
      return partitions.flatMap((p) => {
        const offset = found.get(key(p));
        return offset === undefined ? [] : [{ topic: p.topic, partition: p.partition, offset }];
      });
    });
  }

  committed(partitions: TopicPartition[]): Promise<Array<TopicPartitionOffset & { metadata: string }>> {
    return this.#serial(async () => {
      const result = await this.#fetchCommitted(partitions).catch((error) => Promise.reject(kafkaFailure(error)));
      // Partitions with nothing committed are left out, as REST Proxy does.
      return result
        .filter((r) => r.offset >= 0)
        .map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, metadata: r.metadata ?? "" }));
    });
  }

  /** The group's committed offsets for these partitions; rejects with librdkafka's own error. */
  #fetchCommitted(
    partitions: TopicPartition[],
    timeoutMs = this.#kafkaTimeoutMs,
  ): Promise<Kafka.TopicPartitionOffsetAndMetadata[]> {
    return new Promise((resolve, reject) =>
      this.#consumer.committed(partitions, timeoutMs, (error, result) => (error ? reject(error) : resolve(result))),
    );
  }

  /** Leaves the group; with commit, first commits what clients received (graceful hand-off). */
  close(options: { commit: boolean }): Promise<void> {
    const closing = this.#serial(async () => {
      if (options.commit) this.#forgetRevoked();
      if (options.commit && this.settings.autoCommit && this.#delivered.size > 0) {
        await new Promise<void>((resolve) => this.#consumer.commitCb([...this.#delivered.values()], () => resolve()));
      }
      this.#closed = true;
      if (this.#idleTimer) clearTimeout(this.#idleTimer);
      this.#poller.signal();
      await new Promise<void>((resolve) => this.#consumer.disconnect(() => resolve()));
    });
    return closing.catch(() => {});
  }
}
