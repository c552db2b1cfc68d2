/**
 * Idempotency-Key behind Redis Sentinel: a claim must be on the replica before its records are
 * written, or a failover could lose it and a retry write the records again. With the replica
 * SIGSTOPped (connected, but confirming nothing), a keyed produce is refused with a retriable
 * 503 / 50003 and writes nothing, while unkeyed produce, which never touches Redis, goes on; once
 * the replica is back, the same key works.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StackInfo, signalRedisReplica, startStack, stopStack } from "../../../../deploy/stack/index.ts";
import { call, readTopic, stack, unique } from "./helpers.ts";
import { b64, createTopic, produceV2 } from "./produce-helpers.ts";
import { type RunningGateway, startGateway } from "./security-helpers.ts";

let redisStack: StackInfo;
let node: RunningGateway;
let replicaStopped = false;
const dir = () => `${stack().dir}-idem-replicas`;

const sentinelGateway = (id: string, props: Record<string, string>) => {
  const sentinel = redisStack.redisSentinel as NonNullable<StackInfo["redisSentinel"]>;
  return startGateway({
    id,
    "redis.sentinels": sentinel.sentinels,
    "redis.master.name": sentinel.masterName,
    "internal.listener": "http://127.0.0.1:0",
    "cluster.secret": stack().clusterSecret,
    // idempotency.redis.min.replicas is left at its Sentinel default: 1.
    ...props,
  });
};

beforeAll(async () => {
  redisStack = await startStack({ kafka: stack().kafka, gateways: 0, redisSentinel: true, dir: dir(), log: () => {} });
  node = await sentinelGateway("idem-replicas", { "redis.wait.ms": "1500" });
}, 120_000);

afterAll(async () => {
  if (replicaStopped) await signalRedisReplica(redisStack, "SIGCONT").catch(() => {});
  await node?.close();
  await stopStack(dir());
});

const keyed = (topic: string, key: string, value: string, base = node.url) =>
  produceV2(topic, { records: [{ value: b64(value) }] }, { base, headers: { "idempotency-key": key } });

describe("Idempotency-Key with Redis replicas", () => {
  it("refuses a keyed produce whose claim the replica cannot confirm, writing nothing", async () => {
    const topic = await createTopic(unique("replicas"), 1);
    const before = await keyed(topic, `"${randomUUID()}"`, "before");
    expect(before.status, before.text).toBe(200);

    const key = `"${randomUUID()}"`;
    await signalRedisReplica(redisStack, "SIGSTOP");
    replicaStopped = true;
    let refused: Awaited<ReturnType<typeof keyed>>;
    let plain: Awaited<ReturnType<typeof keyed>>;
    try {
      refused = await keyed(topic, key, "keyed");
      plain = await produceV2(topic, { records: [{ value: b64("plain") }] }, { base: node.url });
    } finally {
      await signalRedisReplica(redisStack, "SIGCONT");
      replicaStopped = false;
    }
    expect(refused.status, refused.text).toBe(503);
    expect(refused.json.error_code).toBe(50003);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(plain.status, plain.text).toBe(200);
    const metrics = await call("GET", `${node.url}/metrics`);
    expect(metrics.text).toMatch(/wharf_idempotency_unreplicated_total\{[^}]*write="claim"[^}]*\} [1-9]/);

    // The replica is back: the same key does the work, once. (A 503 while it catches up is retriable.)
    let after = await keyed(topic, key, "keyed");
    for (let attempt = 0; attempt < 10 && after.status === 503; attempt++) after = await keyed(topic, key, "keyed");
    expect(after.status, after.text).toBe(200);
    expect(after.json.offsets[0].offset).toBe(2);
    const values = (await readTopic(topic, 4, 5000)).map((r) => r.value?.toString());
    expect(values).toEqual(["before", "plain", "keyed"]);
  });

  it("writes once a late confirmation comes, though it came after the lease: the lease counts from that try", async () => {
    // Patient enough to outwait the replica's pause, with a lease shorter than that pause.
    const patient = await sentinelGateway("idem-replicas-patient", {
      "redis.wait.ms": "10000",
      "idempotency.lease.ms": "1000",
    });
    try {
      const topic = await createTopic(unique("replicas-late"), 1);
      await signalRedisReplica(redisStack, "SIGSTOP");
      replicaStopped = true;
      const pending = keyed(topic, `"${randomUUID()}"`, "late", patient.url);
      try {
        await new Promise((resolve) => setTimeout(resolve, 2500));
      } finally {
        await signalRedisReplica(redisStack, "SIGCONT");
        replicaStopped = false;
      }
      const late = await pending;
      expect(late.status, late.text).toBe(200);
      expect((await readTopic(topic, 2, 5000)).map((r) => r.value?.toString())).toEqual(["late"]);
    } finally {
      await patient.close();
    }
  });
});
