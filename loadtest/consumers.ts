/**
 * The two consumers the consume scenarios compare: a plain librdkafka consumer in this process
 * (the ceiling) and a REST Proxy v2 consumer instance polled over HTTP with GET .../records.
 * Both read partitions by assignment (no group join, so no rebalance delay inside a phase).
 */
import Kafka from "@confluentinc/kafka-javascript";
import { type Pool, request } from "undici";
import { send, V2 } from "./http-request.ts";
import { createHistogram, recordMs, summarize } from "./latency.ts";
import { type FixedRateOptions, type FixedRateResult, type PlainProducer, stampOf } from "./plain-producer.ts";
import { runAtConstantRate } from "./schedule.ts";

const RD_KAFKA_OFFSET_BEGINNING = -2;
const RD_KAFKA_OFFSET_END = -1;
const V2_BINARY = "application/vnd.kafka.binary.v2+json";
/** Bytes asked for per poll: about 3,000 records of 1 KiB, base64 encoded. */
const POLL_MAX_BYTES = 4 * 1024 * 1024;

/** Called with each record's key (null when it has none); answers nothing. */
export type OnKey = (key: Buffer | null) => void;

export interface RecordReader {
  /** Reads until `stop()` is called or `maxRecords` arrived, calling `onKey` per record. */
  run(onKey: OnKey, maxRecords: number, deadline: number): Promise<number>;
  stop(): void;
  close(): Promise<void>;
}

type RawConsumer = InstanceType<typeof Kafka.KafkaConsumer>;

export async function plainConsumer(
  bootstrap: string,
  topic: string,
  partitions: number,
  from: "beginning" | "end",
): Promise<RecordReader> {
  const consumer: RawConsumer = new Kafka.KafkaConsumer(
    {
      "bootstrap.servers": bootstrap,
      "group.id": `wharf-bench-plain-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      "enable.auto.commit": false,
      // librdkafka stops fetching a partition for fetch.queue.backoff.ms (default 1 s) once its
      // prefetch queue is full; reading 100 MiB through the default 64 MiB queue then stalls for a
      // second or not, by chance, and the ceiling varied 3x between runs. 10 ms keeps it steady.
      "fetch.queue.backoff.ms": 10,
    } as Kafka.ConsumerGlobalConfig,
    {},
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 30_000 }, (error) => (error ? reject(new Error(error.message)) : resolve())),
  );
  const offset = from === "beginning" ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset })));
  consumer.setDefaultConsumeTimeout(100);
  // Otherwise consume(1000) waits for 1000 records (100 ms each at most): at a low rate that is a
  // second of latency no real consumer would accept. Missing from the typings, present at runtime.
  (
    consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(on: boolean): void }
  ).setDefaultIsTimeoutOnlyForFirstMessage(true);
  let stopped = false;
  return {
    async run(onKey, maxRecords, deadline) {
      stopped = false;
      let seen = 0;
      while (!stopped && seen < maxRecords && performance.now() < deadline) {
        const messages = await new Promise<Kafka.Message[]>((resolve, reject) =>
          consumer.consume(1000, (error, m) => (error ? reject(new Error(error.message)) : resolve(m))),
        );
        for (const m of messages) onKey(m.key ? (m.key as Buffer) : null);
        seen += messages.length;
      }
      return seen;
    },
    stop() {
      stopped = true;
    },
    close: () => new Promise<void>((resolve) => consumer.disconnect(() => resolve())),
  };
}

export interface V2Instance {
  group: string;
  name: string;
  /** Path of the instance, to which /records, /assignments... are appended. */
  path: string;
}

async function call(url: string, method: "POST" | "DELETE", path: string, body: unknown): Promise<string> {
  const response = await request(`${url}${path}`, {
    method,
    headers: { "content-type": V2, accept: V2 },
    body: body === null ? null : JSON.stringify(body),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${method} ${path} answered ${response.statusCode}: ${text}`);
  return text;
}

/** Creates a binary consumer instance on the gateway at `url` (which then owns it) and assigns it. */
export async function createV2Instance(url: string, topic: string, partitions: number): Promise<V2Instance> {
  const group = `wharf-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const name = "reader";
  await call(url, "POST", `/consumers/${group}`, {
    name,
    format: "binary",
    "auto.offset.reset": "earliest",
    "auto.commit.enable": "false",
  });
  const path = `/consumers/${group}/instances/${name}`;
  const list = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
  await call(url, "POST", `${path}/assignments`, { partitions: list });
  return { group, name, path };
}

export async function seekV2ToEnd(url: string, instance: V2Instance, topic: string, partitions: number) {
  const list = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
  await call(url, "POST", `${instance.path}/positions/end`, { partitions: list });
}

export async function deleteV2Instance(url: string, instance: V2Instance): Promise<void> {
  await call(url, "DELETE", instance.path, null).catch(() => {});
}

const OFFSET_FIELD = Buffer.from('"offset":');

function countOccurrences(body: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = body.indexOf(needle); at !== -1; at = body.indexOf(needle, at + needle.length)) n++;
  return n;
}

/**
 * Polls the instance through `pool` (the owner gateway or any other one), one request at a time as
 * a REST Proxy client must. With `withKeys` the answer is parsed for the keys; otherwise records are
 * only counted, which keeps a throughput phase from measuring this process's JSON.parse.
 */
export function v2Reader(pool: Pool, instance: V2Instance, withKeys: boolean): RecordReader & { polls(): number } {
  let stopped = false;
  let polls = 0;
  const path = `${instance.path}/records?timeout=200&max_bytes=${POLL_MAX_BYTES}`;
  return {
    async run(onKey, maxRecords, deadline) {
      stopped = false;
      let seen = 0;
      while (!stopped && seen < maxRecords && performance.now() < deadline) {
        const response = await pool.request({ method: "GET", path, headers: { accept: V2_BINARY } });
        const chunks: Buffer[] = [];
        for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
        polls++;
        if (response.statusCode !== 200) throw new Error(`GET records answered ${response.statusCode}`);
        const body = Buffer.concat(chunks);
        if (withKeys) {
          const records = JSON.parse(body.toString("utf8")) as { key: string | null }[];
          for (const r of records) onKey(r.key === null ? null : Buffer.from(r.key, "base64"));
          seen += records.length;
        } else {
          const n = countOccurrences(body, OFFSET_FIELD);
          for (let i = 0; i < n; i++) onKey(null);
          seen += n;
        }
      }
      return seen;
    },
    stop() {
      stopped = true;
    },
    polls: () => polls,
    close: async () => {},
  };
}

/**
 * Produces over HTTP (v2, one record per request, through `pool`) at a fixed rate, each record's
 * key its intended send time (stampOf), for end-to-end latency from an HTTP produce to an HTTP read.
 * Answers what PlainProducer.fixedRate answers; `latencyMs` is each produce request's own latency.
 */
export function httpStampedProducer(pool: Pool, topic: string, value: Buffer): Pick<PlainProducer, "fixedRate"> {
  const valueJson = JSON.stringify(value.toString("base64"));
  const path = `/topics/${encodeURIComponent(topic)}`;
  return {
    async fixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
      const histogram = createHistogram();
      let inflight = 0;
      let delivered = 0;
      let failed = 0;
      let lastAt = 0;
      let onIdle: (() => void) | null = null;
      const schedule = await runAtConstantRate({
        ratePerSec: options.ratePerSec,
        durationMs: options.durationMs,
        maxEvents: options.maxRecords,
        fire: (dueAt) => {
          inflight++;
          const key = stampOf(dueAt).toString("base64");
          const body = Buffer.from(`{"records":[{"key":"${key}","value":${valueJson}}]}`);
          const spec = { label: "stamped", method: "POST", path, headers: PRODUCE_HEADERS, body, records: 1 } as const;
          void send(pool, spec).then((outcome) => {
            lastAt = performance.now();
            recordMs(histogram, lastAt - dueAt);
            if (outcome === "ok") delivered++;
            else failed++;
            if (--inflight === 0) onIdle?.();
          });
        },
      });
      const scheduleEnd = performance.now();
      if (inflight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.drainTimeoutMs);
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      const elapsedS = (Math.max(lastAt, scheduleEnd) - schedule.startedAt) / 1000;
      return {
        offeredPerSec: schedule.fired / ((scheduleEnd - schedule.startedAt) / 1000),
        achievedPerSec: delivered / elapsedS,
        delivered,
        failed,
        unfinished: inflight,
        latencyMs: summarize(histogram),
        maxSchedulerLagMs: schedule.maxLagMs,
      };
    },
  };
}

const PRODUCE_HEADERS = { "content-type": V2_BINARY, accept: V2 };
