/**
 * Redis behind Sentinel: two gateways (in this process) find the primary through three sentinels;
 * the primary is SIGKILLed under light produce and consume load. After the failover the consumers
 * keep working, through their owner and through the other node (forwarding still finds the owner
 * in Redis), and produce, which never touches Redis, answers 200 to every request throughout.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killRedisPrimary,
  redisPrimary,
  type StackInfo,
  startStack,
  stopStack,
  waitForRedisFailover,
} from "../../../../deploy/stack/index.ts";
import { type ConsumerRef, createConsumer, instanceCall, ownerOf, readUntil } from "./consumer-helpers.ts";
import { call, createTopic, stack, unique, V2_JSON_FORMAT } from "./helpers.ts";
import { type RunningGateway, startGateway } from "./security-helpers.ts";

let redisStack: StackInfo;
let nodes: RunningGateway[] = [];
let observer: Redis;

const sentinelProps = (id: string) => {
  const sentinel = redisStack.redisSentinel as NonNullable<StackInfo["redisSentinel"]>;
  return {
    id,
    "redis.sentinels": sentinel.sentinels,
    "redis.master.name": sentinel.masterName,
    "internal.listener": "http://127.0.0.1:0",
    "cluster.secret": stack().clusterSecret,
    "cluster.heartbeat.ms": "300",
    "cluster.node.ttl.ms": "3000",
    "cluster.lease.ttl.ms": "3000",
  };
};

beforeAll(async () => {
  // Only the Redis part: Kafka is the suite's, the gateways run in this process.
  redisStack = await startStack({
    kafka: stack().kafka,
    gateways: 0,
    redisSentinel: true,
    dir: `${stack().dir}-redis-sentinel`,
    log: () => {},
  });
  nodes = await Promise.all([startGateway(sentinelProps("sen-a")), startGateway(sentinelProps("sen-b"))]);
  const sentinel = redisStack.redisSentinel as NonNullable<StackInfo["redisSentinel"]>;
  observer = new Redis({
    sentinels: sentinel.sentinels.split(",").map((s) => ({ host: "127.0.0.1", port: Number(s.split(":")[1]) })),
    name: sentinel.masterName,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 200,
  });
  // Its connection drops with the primary; commands report that, the event needs no handler.
  observer.on("error", () => {});
}, 120_000);

afterAll(async () => {
  observer?.disconnect();
  await Promise.all(nodes.map((n) => n.close()));
  await stopStack(`${stack().dir}-redis-sentinel`);
});

const produce = (base: string, topic: string, values: number[]) =>
  call("POST", `${base}/topics/${topic}`, {
    headers: { "content-type": V2_JSON_FORMAT },
    body: { records: values.map((value) => ({ value })) },
  });

describe("Redis Sentinel", () => {
  it("keeps consumers and produce working when the Redis primary is SIGKILLed", async () => {
    const [a, b] = nodes as [RunningGateway, RunningGateway];
    const topic = await createTopic(unique("sentinel"), 2);
    const first = await produce(a.url, topic, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(first.status, first.text).toBe(200);

    const group = unique("g");
    const owned: ConsumerRef = await createConsumer(a.url, group, "c1", { format: "json" });
    // The same instance, reached through the node that does not own it.
    const forwarded: ConsumerRef = { ...owned, base: b.url };
    expect((await instanceCall(forwarded, "POST", "/subscription", { topics: [topic] })).status).toBe(204);
    const before = await readUntil(forwarded, 10);
    expect(before.map((r) => r.value).sort((x, y) => Number(x) - Number(y))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await instanceCall(forwarded, "POST", "/offsets")).status).toBe(200);
    expect(await ownerOf(observer, group, "c1")).toBe("sen-a");

    // Light produce load through both nodes, one request at a time, for as long as the failover
    // takes and a little after it (bounded by count as well).
    const produceStatuses: number[] = [];
    let next = 10;
    let stopProducing = false;
    const producer = (async () => {
      for (let i = 0; i < 2000 && !stopProducing; i++) {
        const values = [next++, next++];
        const res = await produce(i % 2 ? b.url : a.url, topic, values);
        produceStatuses.push(res.status);
      }
    })();

    const formerPrimary = await killRedisPrimary(redisStack);
    const startedAt = produceStatuses.length;
    const newPrimary = await waitForRedisFailover(redisStack, formerPrimary);
    expect(newPrimary).not.toBe(formerPrimary);
    expect((await redisPrimary(redisStack)).port).toBe(newPrimary);

    // Through the other node: a 503 while the gateways reconnect is retriable; after it, the read
    // is forwarded to the owner, which still holds the instance (no adoption was needed).
    const after = await readUntil(forwarded, 10, 60_000);
    expect(after.length).toBeGreaterThanOrEqual(10);
    expect(after.every((r) => Number(r.value) >= 10)).toBe(true);
    expect((await instanceCall(forwarded, "POST", "/offsets", undefined, { retryUntilMs: 30_000 })).status).toBe(200);
    expect(await ownerOf(observer, group, "c1")).toBe("sen-a");
    // And straight at the owner.
    const direct = await instanceCall(owned, "GET", "/records?timeout=500", undefined, {
      accept: V2_JSON_FORMAT,
      retryUntilMs: 30_000,
    });
    expect(direct.status, direct.text).toBe(200);

    // A consumer created after the failover works across both nodes too.
    const fresh = await createConsumer(b.url, unique("g"), "c2", { format: "json" });
    const freshViaA: ConsumerRef = { ...fresh, base: a.url };
    expect((await instanceCall(freshViaA, "POST", "/subscription", { topics: [topic] })).status).toBe(204);
    expect((await readUntil(freshViaA, 10, 60_000)).length).toBeGreaterThanOrEqual(10);

    stopProducing = true;
    await producer;
    // Produce went on during the failover (requests were answered while Redis was away) and
    // every single one was a 200.
    expect(produceStatuses.length).toBeGreaterThan(startedAt);
    expect(produceStatuses.filter((s) => s !== 200)).toEqual([]);

    for (const c of [owned, fresh]) expect((await instanceCall(c, "DELETE", "")).status).toBe(204);
  }, 180_000);
});
