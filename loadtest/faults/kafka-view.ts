/**
 * The suite's own eyes on Kafka, straight to the brokers with librdkafka and never through the
 * gateway: who leads a partition, whether every replica is back in sync, and the topic as Kafka
 * holds it at the end (the checker's ground truth).
 */
import Kafka from "@confluentinc/kafka-javascript";
import type { StoredRecord } from "./history.ts";

export interface PartitionView {
  id: number;
  leader: number;
  replicas: number[];
  isrs: number[];
}

export interface KafkaView {
  partitions(topic: string): Promise<PartitionView[]>;
  /** Waits until `condition` holds for the topic's partitions; false when `timeoutMs` passed first. */
  waitFor(topic: string, condition: (partitions: PartitionView[]) => boolean, timeoutMs: number): Promise<boolean>;
  /**
   * Waits until every partition's leader answers for it (metadata names a leader before that broker
   * has created the partition; a record sent in between fails retriably, and the run would start with
   * errors that no fault caused). Returns the high watermarks.
   */
  endOffsets(topic: string, timeoutMs: number): Promise<Map<number, number>>;
  /** Every record of the topic from the start to its end as of now, values decoded as the producers wrote them. */
  readAll(topic: string, timeoutMs: number): Promise<StoredRecord[]>;
  close(): Promise<void>;
}

type Consumer = InstanceType<typeof Kafka.KafkaConsumer>;

const connect = (client: Consumer) =>
  new Promise<void>((resolve, reject) =>
    client.connect({ timeout: 30_000 }, (error) => (error ? reject(new Error(error.message)) : resolve())),
  );
const disconnect = (client: Consumer) => new Promise<void>((resolve) => client.disconnect(() => resolve()));

function baseConfig(bootstrap: string): Kafka.ConsumerGlobalConfig {
  return {
    "bootstrap.servers": bootstrap,
    "group.id": `wharf-faults-view-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    "enable.auto.commit": false,
    // A dead broker should cost a reconnect attempt, not a long backoff, when it comes back.
    "reconnect.backoff.max.ms": 1000,
    "topic.metadata.refresh.interval.ms": 1000,
  } as Kafka.ConsumerGlobalConfig;
}

export async function createKafkaView(bootstrap: string): Promise<KafkaView> {
  const meta: Consumer = new Kafka.KafkaConsumer(baseConfig(bootstrap), {});
  await connect(meta);

  const partitions = (topic: string) =>
    new Promise<PartitionView[]>((resolve, reject) =>
      meta.getMetadata({ topic, timeout: 5000 }, (error, metadata) => {
        if (error) return reject(new Error(error.message));
        const found = metadata.topics.find((t) => t.name === topic);
        resolve(
          (found?.partitions ?? []).map((p) => ({ id: p.id, leader: p.leader, replicas: p.replicas, isrs: p.isrs })),
        );
      }),
    );

  return {
    partitions,
    async waitFor(topic, condition, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const view = await partitions(topic).catch(() => null);
        if (view && view.length > 0 && condition(view)) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async endOffsets(topic, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const ends = new Map<number, number>();
      for (const p of await partitions(topic)) {
        for (;;) {
          const high = await new Promise<number | Error>((resolve) =>
            meta.queryWatermarkOffsets(topic, p.id, 5000, (e, w) => resolve(e ? new Error(e.message) : w.highOffset)),
          );
          if (typeof high === "number") {
            ends.set(p.id, high);
            break;
          }
          if (Date.now() >= deadline) throw new Error(`${topic}/${p.id}: no answer from its leader: ${high.message}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      return ends;
    },
    readAll: (topic, timeoutMs) => readAll(bootstrap, topic, timeoutMs),
    close: () => disconnect(meta),
  };
}

/** A fresh consumer per read: assigned from the beginning of every partition up to its high watermark. */
async function readAll(bootstrap: string, topic: string, timeoutMs: number): Promise<StoredRecord[]> {
  const consumer: Consumer = new Kafka.KafkaConsumer(
    { ...baseConfig(bootstrap), "fetch.wait.max.ms": 50 } as Kafka.ConsumerGlobalConfig,
    { "auto.offset.reset": "earliest" },
  );
  await connect(consumer);
  try {
    const deadline = Date.now() + timeoutMs;
    const metadata = await new Promise<Kafka.Metadata>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: 10_000 }, (e, m) => (e ? reject(new Error(e.message)) : resolve(m))),
    );
    const ids = (metadata.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => p.id);
    const ends = new Map<number, number>();
    for (const partition of ids) {
      const marks = await new Promise<{ highOffset: number }>((resolve, reject) =>
        consumer.queryWatermarkOffsets(topic, partition, 10_000, (e, w) =>
          e ? reject(new Error(e.message)) : resolve(w),
        ),
      );
      if (marks.highOffset > 0) ends.set(partition, marks.highOffset);
    }
    consumer.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: 0 })));
    consumer.setDefaultConsumeTimeout(200);
    const out: StoredRecord[] = [];
    const next = new Map<number, number>();
    const done = () => [...ends].every(([p, end]) => (next.get(p) ?? 0) >= end);
    while (!done()) {
      if (Date.now() >= deadline) {
        throw new Error(`read back ${out.length} records of ${topic}, the end was not reached in ${timeoutMs} ms`);
      }
      const batch = await new Promise<Kafka.Message[]>((resolve, reject) =>
        consumer.consume(5000, (e, m) => (e ? reject(new Error(e.message)) : resolve(m))),
      );
      for (const m of batch) {
        const end = ends.get(m.partition) ?? 0;
        if (m.offset >= end) continue;
        out.push({ partition: m.partition, offset: m.offset, value: decodeValue(m.value) });
        next.set(m.partition, m.offset + 1);
      }
    }
    return out;
  } finally {
    await disconnect(consumer);
  }
}

/** The producers send JSON strings; anything else is not theirs. */
function decodeValue(value: Buffer | null | undefined): string | null {
  if (!value) return null;
  try {
    const parsed: unknown = JSON.parse(value.toString("utf8"));
    return typeof parsed === "string" ? parsed : null;
  } catch {
    return null;
  }
}
