/**
 * The `_schemas` topic: one partition, compacted, replication factor from the cluster's default.
 * Keys name what a record is about (a subject version or a config), values hold its latest state,
 * a null value (tombstone) deletes it, so compaction keeps exactly what a replay needs.
 */
import Kafka, { type LibrdKafkaError, type Message } from "@confluentinc/kafka-javascript";
import { operationTimeout, storeError } from "./errors.ts";
import type { SchemaLog } from "./registry.ts";
import type { LogEntry, VersionRecord } from "./state.ts";

export interface KafkaLogOptions {
  bootstrap: string;
  topic: string;
  /** How long start-up waits for the topic to be readable. */
  timeoutMs?: number;
}

export interface KafkaSchemaLog extends SchemaLog {
  close(): Promise<void>;
}

const TOPIC_ALREADY_EXISTS = 36;
const DELIVERY_TIMEOUT_MS = 15_000;

export function encodeEntry(entry: LogEntry): { key: Buffer; value: Buffer | null } {
  const key =
    entry.kind === "schema"
      ? { keytype: "SCHEMA", subject: entry.subject, version: entry.version, magic: 1 }
      : { keytype: "CONFIG", subject: entry.subject, magic: 0 };
  return {
    key: Buffer.from(JSON.stringify(key)),
    value: entry.value === null ? null : Buffer.from(JSON.stringify(entry.value)),
  };
}

/** The entry a record holds, or null for records of kinds this registry does not know (skipped). */
export function decodeEntry(key: Buffer | null | undefined, value: Buffer | null | undefined): LogEntry | null {
  if (!key) return null;
  const k = JSON.parse(key.toString("utf8")) as { keytype?: string; subject?: string | null; version?: number };
  const v = value && value.length > 0 ? JSON.parse(value.toString("utf8")) : null;
  if (k.keytype === "SCHEMA" && typeof k.subject === "string" && typeof k.version === "number") {
    return { kind: "schema", subject: k.subject, version: k.version, value: v as VersionRecord | null };
  }
  if (k.keytype === "CONFIG") return { kind: "config", subject: k.subject ?? null, value: v };
  return null;
}

function promised<T>(run: (cb: (err: LibrdKafkaError | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))));
}

async function ensureTopic(options: KafkaLogOptions): Promise<void> {
  const admin = Kafka.AdminClient.create({
    "bootstrap.servers": options.bootstrap,
    "client.id": "wharf-schema-registry",
  });
  try {
    await new Promise<void>((resolve, reject) =>
      admin.createTopic(
        { topic: options.topic, num_partitions: 1, replication_factor: -1, config: { "cleanup.policy": "compact" } },
        options.timeoutMs ?? 30_000,
        (err) => (err && err.code !== TOPIC_ALREADY_EXISTS ? reject(err) : resolve()),
      ),
    );
  } finally {
    admin.disconnect();
  }
}

/** Reads the topic from its start to its end as of now. */
async function replay(options: KafkaLogOptions): Promise<LogEntry[]> {
  const consumer = new Kafka.KafkaConsumer(
    {
      "bootstrap.servers": options.bootstrap,
      "group.id": "wharf-schema-registry-replay",
      "enable.auto.commit": false,
      "client.id": "wharf-schema-registry",
      // The end is where librdkafka says so, not offset high-1: compaction and control records
      // leave offsets without a record.
      "enable.partition.eof": true,
    },
    { "auto.offset.reset": "earliest" },
  );
  let atEnd = false;
  consumer.on("partition.eof", (eof) => {
    if (eof.offset >= endOffset) atEnd = true;
  });
  let endOffset = Number.MAX_SAFE_INTEGER;
  await promised((cb) => consumer.connect({}, cb));
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    // A topic created a moment ago may have no leader yet: retry until its offsets can be read.
    let offsets: { lowOffset: number; highOffset: number } | undefined;
    while (!offsets) {
      try {
        offsets = await promised((cb) => consumer.queryWatermarkOffsets(options.topic, 0, 5000, cb));
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const entries: LogEntry[] = [];
    if (offsets.highOffset <= offsets.lowOffset) return entries;
    endOffset = offsets.highOffset;
    // consume(n) waits for n records or this long: short, so the last partial batch is not a wait.
    consumer.setDefaultConsumeTimeout(50);
    consumer.assign([{ topic: options.topic, partition: 0, offset: offsets.lowOffset }]);
    let next = offsets.lowOffset;
    while (next < offsets.highOffset && !atEnd) {
      if (Date.now() > deadline) throw operationTimeout(`replay of ${options.topic} stopped at offset ${next}`);
      const messages: Message[] = await promised((cb) => consumer.consume(500, cb));
      for (const message of messages) {
        next = message.offset + 1;
        const entry = decodeEntry(message.key as Buffer | null | undefined, message.value);
        if (entry) entries.push(entry);
      }
    }
    return entries;
  } finally {
    await promised((cb) => consumer.disconnect(cb)).catch(() => {});
  }
}

async function openProducer(options: KafkaLogOptions): Promise<Kafka.Producer> {
  const producer = new Kafka.Producer({
    "bootstrap.servers": options.bootstrap,
    "client.id": "wharf-schema-registry",
    dr_cb: true,
    acks: -1,
    "enable.idempotence": true,
    "linger.ms": 0,
    "message.timeout.ms": DELIVERY_TIMEOUT_MS,
  });
  await promised((cb) => producer.connect({}, cb));
  // Delivery reports as soon as they come (a write waits for its ack), not on a poll timer.
  producer.setPollInBackground(true);
  return producer;
}

/** Creates the topic if needed, replays it, and opens the producer for writes. */
export async function openKafkaLog(options: KafkaLogOptions): Promise<{ entries: LogEntry[]; log: KafkaSchemaLog }> {
  await ensureTopic(options);
  const entries = await replay(options);
  const producer = await openProducer(options);
  const pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  let nextOpaque = 0;
  producer.on("delivery-report", (err, report) => {
    const waiter = pending.get(report.opaque as number);
    if (!waiter) return;
    pending.delete(report.opaque as number);
    if (err) waiter.reject(storeError(`Register operation failed while writing to the Kafka store: ${err.message}`));
    else waiter.resolve();
  });

  const log: KafkaSchemaLog = {
    async append(list) {
      const acks = list.map((entry) => {
        const { key, value } = encodeEntry(entry);
        const opaque = nextOpaque++;
        const acked = new Promise<void>((resolve, reject) => pending.set(opaque, { resolve, reject }));
        try {
          producer.produce(options.topic, 0, value, key, Date.now(), opaque);
        } catch (error) {
          pending.delete(opaque);
          return Promise.reject(storeError(`writing to the Kafka store failed: ${(error as Error).message}`));
        }
        return acked;
      });
      await Promise.all(acks);
    },
    async close() {
      await new Promise<void>((resolve) => producer.flush(5000, () => resolve()));
      await promised((cb) => producer.disconnect(cb)).catch(() => {});
    },
  };
  return { entries, log };
}
