/** Shared helpers for integration tests: the stack's endpoints, topics, HTTP calls, reading Kafka. */
import { randomUUID } from "node:crypto";
import Kafka from "@confluentinc/kafka-javascript";
import { Admin } from "@platformatic/kafka";
import { type Dispatcher, request } from "undici";
import { inject } from "vitest";
import { createGateway, type Gateway, type GatewayOptions, parseConfig } from "../../src/index.ts";

export const stack = () => inject("stack");
export const lbUrl = () => stack().lb as string;
export const gatewayUrl = (i: number) => (stack().gateways[i] as { url: string }).url;

export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function createTopicInMetadata(name: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: "wharf-test", bootstrapBrokers: stack().kafka.split(",") });
  try {
    const replicas = Math.min(stack().brokers.length, 3);
    await admin.createTopics({ topics: [name], partitions, replicas });
    // Wait until metadata shows every partition with a leader, so produce never races creation.
    for (let i = 0; i < 50; i++) {
      const md = await admin.metadata({ topics: [name], forceUpdate: true });
      const topic = md.topics.get(name);
      if (topic && topic.partitionsCount === partitions) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.close();
  }
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are checked field by field
  json: any;
}

export async function call(
  method: string,
  url: string,
  options: {
    headers?: Record<string, string>;
    body?: string | Buffer | object;
    dispatcher?: Dispatcher;
    signal?: AbortSignal;
  } = {},
): Promise<HttpResult> {
  const body =
    options.body === undefined || typeof options.body === "string" || Buffer.isBuffer(options.body)
      ? options.body
      : JSON.stringify(options.body);
  const response = await request(url, {
    method: method as "GET",
    headers: options.headers,
    body,
    dispatcher: options.dispatcher,
    signal: options.signal,
  });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

export const V2 = "application/vnd.kafka.v2+json";
export const V2_BINARY = "application/vnd.kafka.binary.v2+json";
export const V2_JSON_FORMAT = "application/vnd.kafka.json.v2+json";

export interface ReadRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<Record<string, Buffer>>;
  timestamp?: number;
}

/**
 * Reads a topic from the beginning with a plain librdkafka consumer until `count` records arrived;
 * fetch waits are cut from librdkafka's 500 ms to 10 ms so a small read takes ~50 ms, not ~1 s.
 */
export async function readTopic(topic: string, count: number, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const consumer = new Kafka.KafkaConsumer({
    "bootstrap.servers": stack().kafka,
    "group.id": unique("reader"),
    "enable.auto.commit": false,
    "fetch.wait.max.ms": 10,
    "fetch.error.backoff.ms": 10,
    "socket.nagle.disable": true,
  } as Kafka.ConsumerGlobalConfig);
  await new Promise<void>((resolve, reject) => consumer.connect({}, (e) => (e ? reject(e) : resolve())));
  try {
    consumer.setDefaultConsumeTimeout(50);
    const md = await new Promise<Kafka.Metadata>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: 10_000 }, (e, m) => (e ? reject(e) : resolve(m))),
    );
    const partitions = md.topics.find((t) => t.name === topic)?.partitions ?? [];
    consumer.assign(partitions.map((p) => ({ topic, partition: p.id, offset: -2 })));
    const out: ReadRecord[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count && Date.now() < deadline) {
      const batch = await new Promise<Kafka.Message[]>((resolve, reject) =>
        consumer.consume(10_000, (e, m) => (e ? reject(e) : resolve(m))),
      );
      for (const m of batch) {
        out.push({
          partition: m.partition,
          offset: m.offset,
          key: m.key === undefined || m.key === null ? null : Buffer.from(m.key),
          value: m.value ?? null,
          headers: (m.headers ?? []) as Array<Record<string, Buffer>>,
          timestamp: m.timestamp,
        });
      }
    }
    return out;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/**
 * helpers.ts's createTopic, then waits until every partition's leader answers for it. Metadata
 * names a leader before that broker has created the partition; a burst produced in between meets
 * "Not leader" and librdkafka's implicit acks (see producer-pool.ts), which Wharf reports as 50003.
 * Tests that are not about that race start after it.
 */
export async function createTopic(name: string, partitions = 3): Promise<string> {
  await createTopicInMetadata(name, partitions);
  const consumer = new Kafka.KafkaConsumer({
    "bootstrap.servers": stack().kafka,
    "group.id": unique("ready"),
  } as Kafka.ConsumerGlobalConfig);
  await new Promise<void>((resolve, reject) => consumer.connect({}, (e) => (e ? reject(e) : resolve())));
  try {
    const deadline = Date.now() + 20_000;
    for (let partition = 0; partition < partitions; partition++) {
      for (;;) {
        const error = await new Promise<{ message: string } | null>((resolve) =>
          consumer.queryWatermarkOffsets(name, partition, 2000, (e) => resolve(e ?? null)),
        );
        if (error === null) break;
        if (Date.now() > deadline) throw new Error(`partition ${name}/${partition} has no leader: ${error.message}`);
        // The reader's own metadata may not know the topic yet: ask again before retrying.
        await new Promise<void>((resolve) => consumer.getMetadata({ topic: name, timeout: 2000 }, () => resolve()));
        await sleep(50);
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return name;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A gateway in the test process on the stack's Kafka, `settings` over its defaults; close it after. */
export async function inProcessGateway(
  name: string,
  settings: Record<string, string> = {},
  options: GatewayOptions = {},
): Promise<{ gateway: Gateway; url: string }> {
  const config = parseConfig({
    "bootstrap.servers": stack().kafka,
    listeners: "http://127.0.0.1:0",
    id: unique(name),
    "log.level": "error",
    ...settings,
  });
  const gateway = await createGateway(config, options);
  return { gateway, url: (await gateway.listen()).url };
}
