/**
 * Redis away without a disconnect: the server refuses every write for longer than the consumer
 * leases live (here by `min-replicas-to-write 1` with no replica: NOREPLICAS, as a Redis Cluster
 * that lost a node answers CLUSTERDOWN), while every connection stays up. Two gateways (in this
 * process) on a Redis of their own. When writes are accepted again the leases have lapsed, yet the
 * instance stays with its live owner: the other node must not adopt it before the owner has had a
 * renewal to restore its lease. A keyed produce sent meanwhile is answered once Redis takes writes
 * again, not refused on the first refusal.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StackInfo, startStack, stopStack } from "../../../../deploy/stack/index.ts";
import { type ConsumerRef, createConsumer, instanceCall, metric, ownerOf, readUntil } from "./consumer-helpers.ts";
import { call, createTopic, sleep, stack, unique, V2_JSON_FORMAT } from "./helpers.ts";
import { type RunningGateway, startGateway } from "./security-helpers.ts";

const LEASE_TTL_MS = 2500;
/** Renewals are a second apart: one that lands right after the outage is unlikely (see below). */
const HEARTBEAT_MS = 1000;
/** Past the lease TTL, inside redis.wait.ms. */
const OUTAGE_MS = 4000;

let redisStack: StackInfo;
let nodes: RunningGateway[] = [];
let admin: Redis;
const dir = () => `${stack().dir}-redis-refusing`;

const nodeProps = (id: string) => ({
  id,
  "redis.url": redisStack.redis as string,
  "redis.wait.ms": "10000",
  "internal.listener": "http://127.0.0.1:0",
  "cluster.secret": stack().clusterSecret,
  "cluster.heartbeat.ms": String(HEARTBEAT_MS),
  "cluster.node.ttl.ms": String(LEASE_TTL_MS),
  "cluster.lease.ttl.ms": String(LEASE_TTL_MS),
});

const refuseWrites = (refuse: boolean) => admin.config("SET", "min-replicas-to-write", refuse ? "1" : "0");

beforeAll(async () => {
  // Only a Redis: Kafka is the suite's, the gateways run in this process.
  redisStack = await startStack({ kafka: stack().kafka, gateways: 0, redisLocal: true, dir: dir(), log: () => {} });
  admin = new Redis(redisStack.redis as string, { maxRetriesPerRequest: 1 });
  nodes = await Promise.all([startGateway(nodeProps("refusing-a")), startGateway(nodeProps("refusing-b"))]);
}, 120_000);

afterAll(async () => {
  await refuseWrites(false).catch(() => {});
  admin?.disconnect();
  await Promise.all(nodes.map((n) => n.close()));
  await stopStack(dir());
});

describe("Redis refusing writes past the lease TTL", () => {
  it("leaves each consumer instance with its live owner, and answers keyed produce once Redis takes writes", async () => {
    const [a, b] = nodes as [RunningGateway, RunningGateway];
    const topic = await createTopic(unique("refusing"), 2);
    const produce = (values: number[], headers: Record<string, string> = {}) =>
      call("POST", `${a.url}/topics/${topic}`, {
        headers: { "content-type": V2_JSON_FORMAT, ...headers },
        body: { records: values.map((value) => ({ value })) },
      });
    expect((await produce([0, 1, 2, 3, 4])).status).toBe(200);

    const group = unique("g");
    const owned: ConsumerRef = await createConsumer(a.url, group, "c1", { format: "json" });
    const viaB: ConsumerRef = { ...owned, base: b.url };
    expect((await instanceCall(viaB, "POST", "/subscription", { topics: [topic] })).status).toBe(204);
    expect((await readUntil(viaB, 5)).length).toBe(5);
    expect((await instanceCall(viaB, "POST", "/offsets")).status).toBe(200);
    expect(await ownerOf(admin, group, "c1")).toBe("refusing-a");
    const adoptionsBefore = await metric(b.url, "wharf_adoptions_total");

    await refuseWrites(true);
    const keyed = produce([5, 6, 7], { "idempotency-key": `"${randomUUID()}"` });
    await sleep(OUTAGE_MS);
    expect(await ownerOf(admin, group, "c1"), "the lease lapsed while nobody could renew it").toBeNull();
    await refuseWrites(false);

    // At once through the non-owner. Its lookup finds the lease lapsed and the owner's node key
    // gone; only the owner's next renewal (up to a heartbeat away) restores them. Answers of 503
    // until then are retriable; an adoption would move a live instance.
    const after = await readUntil(viaB, 3, 30_000);
    expect(after.map((r) => Number(r.value)).sort()).toEqual([5, 6, 7]);
    expect(await ownerOf(admin, group, "c1")).toBe("refusing-a");
    expect(await metric(b.url, "wharf_adoptions_total")).toBe(adoptionsBefore);

    const answer = await keyed;
    expect(answer.status, answer.text).toBe(200);
    expect((await instanceCall(owned, "DELETE", "")).status).toBe(204);
  }, 120_000);
});
