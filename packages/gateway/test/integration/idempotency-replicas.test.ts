/**
 * Idempotency-Key behind Redis Sentinel: a claim must be on the replica before its records are
 * written, or a failover could lose it and a retry write the records again. With the replica
 * SIGSTOPped (connected, but confirming nothing), a keyed produce is refused with a retriable
 * 503 / 50003 and writes nothing, while unkeyed produce, which never touches Redis, goes on; once
 * the replica is back, the same key works. With the Sentinel default (min.replicas=connected), a
 * failover that leaves the promoted primary without a replica does not stall keyed produce: it
 * waits for the replicas that are there, none, until the old primary rejoins as one.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killRedisPrimary,
  restartRedisReplica,
  type StackInfo,
  signalRedisReplica,
  startStack,
  stopStack,
  waitForRedisFailover,
} from "../../../../deploy/stack/index.ts";
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
    // idempotency.redis.min.replicas is left at its Sentinel default: connected.
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

/** The replica count the node last read (wharf_idempotency_redis_replicas), once it reads `wanted`. */
const replicasSeen = async (base: string, wanted: number) => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const metrics = await call("GET", `${base}/metrics`);
    const seen = Number(
      /^wharf_idempotency_redis_replicas(?:\{[^}]*\})? (\d+)$/m.exec(metrics.text)?.[1] ?? Number.NaN,
    );
    if (seen === wanted || Date.now() > deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

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

  it("keeps serving keyed produce when a failover leaves the new primary without a replica", async () => {
    // redis.wait.ms far beyond the failover (a second or two): with a fixed min.replicas of 1 no
    // replica ever confirms until the old primary is back, so these requests end in 503 / 50003
    // when it runs out, whatever the machine's speed. With "connected" the new primary's zero
    // replicas mean no WAIT, and they are answered 200 as soon as the client has followed it.
    const patient = await sentinelGateway("idem-replicas-failover", { "redis.wait.ms": "30000" });
    try {
      expect(await replicasSeen(patient.url, 1)).toBe(1);
      const topic = await createTopic(unique("replicas-failover"), 1);
      const former = await killRedisPrimary(redisStack);
      // One sent while Sentinel is still failing over, one once the replica is promoted.
      const during = keyed(topic, `"${randomUUID()}"`, "during", patient.url);
      await waitForRedisFailover(redisStack, former);
      const after = await keyed(topic, `"${randomUUID()}"`, "after", patient.url);
      const first = await during;
      expect(first.status, first.text).toBe(200);
      expect(after.status, after.text).toBe(200);
      expect(await replicasSeen(patient.url, 0)).toBe(0);
      const metrics = await call("GET", `${patient.url}/metrics`);
      expect(metrics.text).not.toMatch(/wharf_idempotency_unreplicated_total\{[^}]*write="claim"[^}]*\} [1-9]/);
      const values = (await readTopic(topic, 3, 5000)).map((r) => r.value?.toString()).sort();
      expect(values).toEqual(["after", "during"]);

      // The old primary rejoins as a replica: it is read back into the count, and a claim it does
      // not confirm (SIGSTOPped: still connected, confirming nothing) is refused again.
      await restartRedisReplica(redisStack, former);
      expect(await replicasSeen(node.url, 1)).toBe(1);
      await signalRedisReplica(redisStack, "SIGSTOP");
      replicaStopped = true;
      let refused: Awaited<ReturnType<typeof keyed>>;
      try {
        refused = await keyed(topic, `"${randomUUID()}"`, "refused");
      } finally {
        await signalRedisReplica(redisStack, "SIGCONT");
        replicaStopped = false;
      }
      expect(refused.status, refused.text).toBe(503);
      expect(refused.json.error_code).toBe(50003);
      expect((await readTopic(topic, 3, 5000)).map((r) => r.value?.toString()).sort()).toEqual(["after", "during"]);
    } finally {
      await patient.close();
    }
  });
});
