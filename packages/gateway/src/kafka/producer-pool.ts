/**
 * A small pool of shared librdkafka producers. Records from all concurrent HTTP requests go
 * through it, so librdkafka's own batching (linger.ms) coalesces them. Each record carries an
 * opaque naming its request; a request resolves once every record has a delivery report.
 */
import Kafka from "@confluentinc/kafka-javascript";
import type { GatewayConfig } from "../config.ts";
import { RestError, serviceUnavailable, tooManyRequests } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { type DeliveryError, deliveryError, unconfirmedDelivery } from "./delivery-errors.ts";
import { producerProperties } from "./librdkafka-config.ts";

export interface OutgoingRecord {
  topic: string;
  /** null lets librdkafka's partitioner choose. */
  partition: number | null;
  key: Buffer | null;
  value: Buffer | null;
  /** A string value goes as its UTF-8 bytes (the binding copies it without a Buffer). */
  headers?: Array<{ name: string; value: Buffer | string | null }>;
  /** Milliseconds since the epoch; null lets the producer stamp it. */
  timestamp?: number | null;
}

export type DeliveryResult =
  | { ok: true; partition: number; offset: number; timestamp: number | null }
  | {
      ok: false;
      error: DeliveryError;
      /**
       * Set when librdkafka reported a success without an offset (see onDelivery): the record may
       * be in this partition after all (-1: librdkafka did not say which). Keyed requests look.
       */
      unconfirmed?: { partition: number };
    };

/**
 * One HTTP request's records awaiting their delivery reports. It keeps no reference to the
 * records themselves: librdkafka has copied them, and anything still reachable at a scavenge is
 * promoted to the old generation (at 100k records/s that alone caused a mark-compact every 200 ms).
 */
class PendingBatch {
  readonly results: DeliveryResult[];
  remaining: number;
  readonly startedAt = performance.now();
  readonly bytes: number;
  /** The pool's producer that carries the records. */
  readonly producer: number;
  /** Each record's key + value bytes, for the produced-bytes metric. */
  readonly sizes: Uint32Array;
  /** The records' topic, or each record's when they differ. */
  readonly topics: string | string[];
  /** Acknowledged records and their bytes, counted into the metrics once the batch completes. */
  acked = 0;
  ackedBytes = 0;
  resolve!: (results: DeliveryResult[]) => void;
  readonly done = new Promise<DeliveryResult[]>((resolve) => {
    this.resolve = resolve;
  });

  constructor(records: OutgoingRecord[], sizes: Uint32Array, bytes: number, producer: number) {
    this.results = new Array(records.length);
    this.producer = producer;
    this.remaining = records.length;
    this.sizes = sizes;
    this.bytes = bytes;
    const topic = (records[0] as OutgoingRecord).topic;
    this.topics = records.every((r) => r.topic === topic) ? topic : records.map((r) => r.topic);
  }
}

interface RecordOpaque {
  batch: PendingBatch;
  index: number;
}

type RawProducer = InstanceType<typeof Kafka.Producer>;

/** librdkafka's linger.ms (alias queue.buffering.max.ms) as configured, or its 5 ms default. */
function lingerOf(properties: Record<string, unknown>): number {
  const raw = properties["linger.ms"] ?? properties["queue.buffering.max.ms"];
  const ms = Number(raw);
  return raw === undefined || !Number.isFinite(ms) ? 5 : ms;
}

/** What one producer of the pool holds, for sending a lone record at once (see sendAtOnce). */
interface ProducerLoad {
  /** Records without a delivery report yet: 0 means the producer is idle. */
  records: number;
  requests: number;
  /** When the latest request was handed to librdkafka (performance.now()). */
  lastSendAt: number;
  /** This producer's linger.ms: how long a record may wait for company. */
  lingerMs: number;
  flushing: boolean;
}

export interface ProducerPool {
  /**
   * Queues the records on one producer and resolves with one result per record, in order. The
   * records are handed to librdkafka before send returns, so calls keep their order on a partition
   * when they use the same lane (see nextLane); without one, producers take turns.
   */
  send(records: OutgoingRecord[], lane?: number): Promise<DeliveryResult[]>;
  /** A lane for a request that sends several times: all its sends go through one producer. */
  nextLane(): number;
  /**
   * Partition count of a topic, or null when it does not exist; rejects with 403 / 40301 when
   * Wharf's Kafka principal may not see it (see ProducerPoolOptions). Counts are cached briefly;
   * `fresh` asks the broker again (a partition beyond the cached count may have been added since).
   */
  partitionCount(topic: string, fresh?: boolean): Promise<number | null>;
  readonly ready: boolean;
  /** Resolves when a broker answered a metadata request within timeoutMs; rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
  readonly inflightRecords: number;
  close(): Promise<void>;
}

const isAcksZero = (properties: Record<string, unknown>) =>
  String(properties.acks ?? properties["request.required.acks"] ?? "all") === "0";

const recordBytes = (r: OutgoingRecord) => (r.key?.length ?? 0) + (r.value?.length ?? 0);

export interface ProducerPoolOptions {
  /**
   * Asked when metadata shows no such topic: librdkafka's binding drops the per-topic error, so a
   * topic Wharf's Kafka principal may not describe looks just like a missing one. An error returned
   * here (403 / 40301) is thrown instead of reporting the topic as unknown.
   */
  explainMissingTopic?: (topic: string) => Promise<RestError | null>;
  /**
   * Tests only (createGateway's options, no configuration key): rewrites each delivery report
   * before the pool reads it, to stage what librdkafka does rarely (a success without an offset).
   */
  reviseReport?: (report: Kafka.DeliveryReport) => Kafka.DeliveryReport;
}

export async function createProducerPool(
  config: GatewayConfig,
  log: Logger,
  metrics: Metrics,
  options: ProducerPoolOptions = {},
): Promise<ProducerPool> {
  const producers: RawProducer[] = [];
  let next = 0;
  let inflightRecords = 0;
  let inflightBytes = 0;
  let closed = false;
  const connecting: Promise<void>[] = [];
  const firstAttempts: Promise<void>[] = [];
  const topicCache = new Map<string, { partitions: number; expires: number }>();
  const loads = Array.from(
    { length: config.produce.poolSize },
    (): ProducerLoad => ({
      records: 0,
      requests: 0,
      lastSendAt: 0,
      lingerMs: lingerOf(producerProperties(config, 0)),
      flushing: false,
    }),
  );
  metrics.sampled.producerQueueRecords = () => inflightRecords;
  metrics.sampled.producerQueueBytes = () => inflightBytes;

  const settle = (opaque: RecordOpaque, result: DeliveryResult) => {
    const { batch, index } = opaque;
    batch.results[index] = result;
    if (--batch.remaining === 0) {
      inflightRecords -= batch.results.length;
      const load = loads[batch.producer] as ProducerLoad;
      load.records -= batch.results.length;
      load.requests--;
      inflightBytes -= batch.bytes;
      metrics.deliveryLatency.observe((performance.now() - batch.startedAt) / 1000);
      // Per batch, not per record: label lookups per record cost more than the produce call.
      if (batch.acked > 0) countAcked(batch);
      batch.resolve(batch.results);
    }
  };

  const countAcked = (batch: PendingBatch) => {
    const { topics } = batch;
    if (typeof topics === "string") {
      metrics.recordsProduced.inc({ topic: topics }, batch.acked);
      metrics.bytesProduced.inc({ topic: topics }, batch.ackedBytes);
      return;
    }
    topics.forEach((topic, i) => {
      if (!batch.results[i]?.ok) return;
      metrics.recordsProduced.inc({ topic });
      metrics.bytesProduced.inc({ topic }, batch.sizes[i]);
    });
  };

  // With acks=0 no offset ever comes back; Kafka's Java client then reports -1, and so does Wharf.
  const withoutAcks = isAcksZero(producerProperties(config, 0));
  const fail = (opaque: RecordOpaque, error: DeliveryError, unconfirmed?: { partition: number }) => {
    metrics.produceErrors.inc({ error_code: error.errorCode });
    settle(opaque, unconfirmed ? { ok: false, error, unconfirmed } : { ok: false, error });
  };

  const { reviseReport } = options;
  const onDelivery = (err: { code?: number; message?: string } | null | undefined, raw: Kafka.DeliveryReport) => {
    const report = reviseReport ? reviseReport(raw) : raw;
    const opaque = report.opaque as RecordOpaque;
    if (err) return fail(opaque, deliveryError(err));
    // librdkafka reports a success without an offset when it infers the record was stored (a
    // later batch succeeded, or the broker called the retry a duplicate). Right after a partition
    // gets its leader that inference can be wrong: the record was refused and is lost (librdkafka
    // 2.15.1, Kafka 4.3: "implicitly acked by subsequent batch success" after "Not leader"). Only a
    // success with an offset is acknowledged; the client retries the rest, which at worst stores a
    // record twice instead of losing it; a keyed request first looks for it (idempotency/writes.ts).
    if (report.offset < 0 && !withoutAcks) {
      return fail(opaque, unconfirmedDelivery(), { partition: report.partition ?? -1 });
    }
    opaque.batch.acked++;
    opaque.batch.ackedBytes += opaque.batch.sizes[opaque.index] as number;
    settle(opaque, {
      ok: true,
      partition: report.partition,
      offset: report.offset < 0 ? -1 : report.offset,
      timestamp: report.timestamp ?? null,
    });
  };

  for (let i = 0; i < config.produce.poolSize; i++) {
    const properties = producerProperties(config, i);
    // producer.debug=... asks librdkafka for debug logs; they arrive as events, into Wharf's log.
    const debug = properties.debug !== undefined;
    const producer = new Kafka.Producer({
      ...properties,
      ...(debug ? { event_cb: true } : {}),
    } as Kafka.ProducerGlobalConfig);
    if (debug) {
      producer.on("event.log", (entry: { fac?: string; message?: string }) => {
        log.info("librdkafka", { producer: i, facility: entry.fac, message: entry.message });
      });
    }
    producer.on("delivery-report", onDelivery);
    producer.on("event.error", (error: { message?: string }) => {
      log.warn("kafka producer error", { producer: i, error: error.message });
    });
    producers.push(producer);
    let firstAttempt!: () => void;
    firstAttempts.push(new Promise<void>((resolve) => (firstAttempt = resolve)));
    connecting.push(connectUntilClosed(producer, i, firstAttempt));
  }
  // Normally Kafka answers at once and the node starts connected; if not, it starts anyway.
  await Promise.all(firstAttempts);

  // Kafka may be unreachable at start (or the credentials wrong): the node still starts, reports
  // not-ready on /readyz and answers produce with a retriable 503 until a producer connects.
  async function connectUntilClosed(producer: RawProducer, index: number, firstAttempt: () => void): Promise<void> {
    for (let attempt = 1; !closed; attempt++) {
      try {
        await new Promise<void>((resolve, reject) =>
          producer.connect({ timeout: 15_000 }, (error) => (error ? reject(error) : resolve())),
        );
        if (closed) {
          // The pool was closed while this attempt was under way.
          await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
          return;
        }
        // Delivery reports are polled on librdkafka's thread, not on a JS timer: no added latency.
        producer.setPollInBackground(true);
        if (attempt > 1) log.info("kafka producer connected", { producer: index, attempt });
        firstAttempt();
        return;
      } catch (error) {
        firstAttempt();
        log.warn("kafka producer cannot connect; retrying", {
          producer: index,
          attempt,
          error: (error as Error).message,
        });
        await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 10_000)).unref());
      }
    }
  }

  const fetchPartitionCount = (topic: string) =>
    new Promise<number | null>((resolve, reject) => {
      const producer = producers[0] as RawProducer;
      producer.getMetadata({ topic, timeout: 5000 }, (error, metadata) => {
        if (error) return reject(error);
        const found = metadata.topics.find((t) => t.name === topic);
        resolve(found && found.partitions.length > 0 ? found.partitions.length : null);
      });
    });

  /**
   * A lone record would wait linger.ms (2 ms) for company that is not coming. librdkafka ignores
   * linger.ms while a flush runs, so a record that found its producer idle starts a flush: it goes
   * out at once, as do records joining it while the flush runs. The flush runs on a libuv thread
   * until the producer is empty again or idleFlushMs (1 ms) passed, one per producer at a time: a
   * longer one would suspend linger.ms under a load that began in an idle moment (measured: at
   * 100 ms, a 8,000 requests/s load started 40 flushes/s and was batched hardly at all). Under load
   * a producer is rarely idle, so batching is kept.
   */
  const sendAtOnce = (index: number) => {
    const load = loads[index] as ProducerLoad;
    if (load.flushing || config.produce.idleFlushMs === 0) return;
    load.flushing = true;
    metrics.producerIdleFlushes.inc();
    try {
      (producers[index] as RawProducer).flush(config.produce.idleFlushMs, () => {
        load.flushing = false;
        // A lone request still waiting may have missed the flush (it ended before the broker
        // thread woke, or before the topic's metadata came) and would wait linger.ms after all:
        // flush again, until linger.ms would have sent it anyway. Two or more waiting requests
        // are load: chaining flushes for them (up to 4 was tried) suspended linger.ms at ~1,000
        // requests/s and cost the gateway a fifth more CPU, with a worse tail.
        const young = performance.now() - load.lastSendAt < load.lingerMs;
        if (load.requests === 1 && young) sendAtOnce(index);
      });
    } catch {
      // Disconnected since send() checked: the records fail through their reports instead.
      load.flushing = false;
    }
  };

  const nextLane = () => {
    const lane = next;
    next = (next + 1) % producers.length;
    return lane;
  };

  return {
    get ready() {
      return !closed && producers.every((p) => p.isConnected());
    },
    get inflightRecords() {
      return inflightRecords;
    },

    ping: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (!(producers[0] as RawProducer).isConnected()) return reject(new Error("producer not connected yet"));
        (producers[0] as RawProducer).getMetadata({ allTopics: false, timeout: timeoutMs }, (error) =>
          error ? reject(new Error(error.message)) : resolve(),
        );
      }),

    nextLane,

    async partitionCount(topic, fresh = false) {
      if (!(producers[0] as RawProducer).isConnected()) throw serviceUnavailable("Kafka is not reachable yet; retry.");
      const cached = topicCache.get(topic);
      if (!fresh && cached && cached.expires > Date.now()) return cached.partitions;
      let partitions: number | null;
      try {
        partitions = await fetchPartitionCount(topic);
        // A topic created a moment ago may not have reached every broker's metadata yet: ask
        // again briefly before calling it unknown.
        for (let retry = 0; partitions === null && retry < 2; retry++) {
          await new Promise((r) => setTimeout(r, 250));
          partitions = await fetchPartitionCount(topic);
        }
      } catch (error) {
        const mapped = deliveryError(error as { code?: number; message?: string });
        throw new RestError(mapped.status, mapped.errorCode, mapped.message);
      }
      if (partitions === null) {
        const refusal = await options.explainMissingTopic?.(topic);
        if (refusal) throw refusal;
        return null;
      }
      // Only positive answers are cached, so a topic created a moment ago is usable at once.
      topicCache.set(topic, { partitions, expires: Date.now() + 30_000 });
      return partitions;
    },

    send(records, lane) {
      if (closed) return Promise.reject(serviceUnavailable("The gateway is shutting down."));
      if (records.length === 0) return Promise.resolve([]);
      if (!producers.every((p) => p.isConnected())) {
        return Promise.reject(serviceUnavailable("Kafka is not reachable yet; retry."));
      }
      const sizes = new Uint32Array(records.length);
      let bytes = 0;
      for (let i = 0; i < records.length; i++) {
        sizes[i] = recordBytes(records[i] as OutgoingRecord);
        bytes += sizes[i] as number;
      }
      // All-or-nothing admission: refusing before queueing anything keeps a 429 side-effect free.
      if (
        inflightRecords > 0 &&
        (inflightRecords + records.length > config.produce.maxInflightRecords ||
          inflightBytes + bytes > config.produce.maxInflightBytes)
      ) {
        metrics.produceRejected.inc();
        throw tooManyRequests("Producer queue is full, retry later.", 1);
      }
      // One producer per request keeps the request's records in order on each partition.
      const producerIndex = (lane ?? nextLane()) % producers.length;
      const producer = producers[producerIndex] as RawProducer;
      const batch = new PendingBatch(records, sizes, bytes, producerIndex);
      const load = loads[producerIndex] as ProducerLoad;
      const wasIdle = load.records === 0;
      inflightRecords += records.length;
      inflightBytes += bytes;
      load.records += records.length;
      load.requests++;
      load.lastSendAt = performance.now();
      for (let index = 0; index < records.length; index++) {
        const r = records[index] as OutgoingRecord;
        const opaque: RecordOpaque = { batch, index };
        try {
          producer.produce(
            r.topic,
            r.partition ?? -1,
            r.value,
            r.key,
            r.timestamp ?? null,
            opaque,
            // The binding takes only strings and buffers as header values: a null value (allowed
            // by Kafka and REST Proxy's v3) can only travel as an empty one.
            r.headers?.map((h) => ({ [h.name]: h.value ?? Buffer.alloc(0) })),
          );
        } catch (error) {
          // Refused locally (record too large, unknown partition): no delivery report will come.
          fail(opaque, deliveryError(error as { code?: number; message?: string }));
        }
      }
      if (wasIdle && batch.remaining > 0) sendAtOnce(producerIndex);
      return batch.done;
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(
        producers.map(
          (producer) =>
            new Promise<void>((resolve) => {
              if (!producer.isConnected()) return resolve();
              producer.flush(config.shutdownTimeoutMs, () => {
                producer.setPollInBackground(false);
                producer.disconnect(() => resolve());
              });
            }),
        ),
      );
      // A connection attempt still under way disconnects itself when it ends.
      await Promise.all(connecting);
    },
  };
}
