/**
 * A real Redis Cluster (three masters) as the gateways' Redis: the consumer directory (create,
 * forward through a second node, adoption after the owner is SIGKILLed), rate limits, whose
 * scripts must keep every key of one call in one slot, and the Idempotency-Key store's claims.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisClusterHandle, startRedisCluster } from "../../../../deploy/stack/index.ts";
import { type IdempotencyStore, StoreNotReplicatedError } from "../../src/http/idempotency/store.ts";
import { storeContract } from "../../src/http/idempotency/store-contract.ts";
import { createRedisStore } from "../../src/http/idempotency/store-redis.ts";
import { silentLogger } from "../../src/log.ts";
import { type ConsumerRef, createConsumer, instanceCall, ownerOf, readUntil } from "./consumer-helpers.ts";
import { call, createTopic, stack, unique, V2_JSON_FORMAT } from "./helpers.ts";
import { type RunningGateway, startGateway } from "./security-helpers.ts";

let redisCluster: RedisClusterHandle;
let observer: Cluster;
const children: ChildProcess[] = [];

const clusterProps = (id: string) => ({
  id,
  "redis.cluster.nodes": redisCluster.nodes,
  "internal.listener": "http://127.0.0.1:0",
  "cluster.secret": stack().clusterSecret,
  "cluster.heartbeat.ms": "300",
  "cluster.node.ttl.ms": "2000",
  "cluster.lease.ttl.ms": "2000",
});

/** A gateway in its own process, so that it can die without a graceful hand-off. */
async function startGatewayProcess(id: string): Promise<{ url: string; child: ChildProcess }> {
  const env: NodeJS.ProcessEnv = { ...process.env, WHARF_BOOTSTRAP_SERVERS: stack().kafka };
  env.WHARF_LISTENERS = "http://127.0.0.1:0";
  for (const [key, value] of Object.entries(clusterProps(id)))
    env[`WHARF_${key.toUpperCase().replaceAll(".", "_")}`] = value;
  const main = new URL("../../src/main.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, [main], { env, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`gateway ${id} exited with ${code} before listening`)));
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "listening" && entry.url) resolve(entry.url);
    });
  });
  return { url, child };
}

beforeAll(async () => {
  redisCluster = await startRedisCluster(`${stack().dir}-redis-cluster`);
  observer = new Cluster(
    redisCluster.ports.map((port) => ({ host: "127.0.0.1", port })),
    { redisOptions: { maxRetriesPerRequest: 1 } },
  );
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  observer?.disconnect();
  await redisCluster?.stop();
});

describe("Redis Cluster", () => {
  it("routes, forwards and adopts consumer instances", async () => {
    const owner = await startGatewayProcess("rc-owner");
    const other: RunningGateway = await startGateway(clusterProps("rc-other"));
    try {
      const topic = await createTopic(unique("rcluster"), 2);
      const produce = async (from: number, count: number) => {
        const res = await call("POST", `${other.url}/topics/${topic}`, {
          headers: { "content-type": V2_JSON_FORMAT },
          body: { records: Array.from({ length: count }, (_, i) => ({ value: from + i })) },
        });
        expect(res.status, res.text).toBe(200);
      };
      await produce(0, 10);

      const group = unique("g");
      await createConsumer(owner.url, group, "c1", { format: "json" });
      const viaOther: ConsumerRef = { base: other.url, group, name: "c1", format: "json" };
      expect(await ownerOf(observer, group, "c1")).toBe("rc-owner");
      // Every call below lands on the node that does not own the instance: it is forwarded.
      expect((await instanceCall(viaOther, "POST", "/subscription", { topics: [topic] })).status).toBe(204);
      const first = await readUntil(viaOther, 10);
      expect(first.map((r) => Number(r.value)).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect((await instanceCall(viaOther, "POST", "/offsets")).status).toBe(200);
      expect(await ownerOf(observer, group, "c1")).toBe("rc-owner");

      await produce(10, 10);
      owner.child.kill("SIGKILL");
      // Once the dead owner's node key and lease lapse, the next request adopts the instance
      // from its stored settings and the group's committed offsets: nothing before the commit again.
      const after = await readUntil(viaOther, 10, 60_000);
      expect(after.map((r) => Number(r.value)).sort((x, y) => x - y)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
      expect(await ownerOf(observer, group, "c1")).toBe("rc-other");
      expect((await instanceCall(viaOther, "DELETE", "")).status).toBe(204);
      expect(await ownerOf(observer, group, "c1")).toBeNull();
    } finally {
      await other.close();
    }
  }, 180_000);

  for (const [what, limit] of [
    ["per principal", { "rate.limit.principal.requests.per.second": "4" }],
    [
      "for the whole cluster, beside per-principal limits",
      {
        "rate.limit.global.requests.per.second": "4",
        "rate.limit.principal.requests.per.second": "100",
      },
    ],
  ] as const) {
    it(`keeps rate limits ${what} cluster-wide`, async () => {
      const [a, b] = await Promise.all([
        startGateway({ ...clusterProps(unique("rl-a")), ...limit }),
        startGateway({ ...clusterProps(unique("rl-b")), ...limit }),
      ]);
      try {
        // Sent at once, half to each node. GCRA allows the one-second burst (4) plus what refills
        // while the requests are under way (one per 250 ms): the bound follows the time they took,
        // so a slow machine loosens it instead of failing it. Per node it would be twice as many.
        const startedAt = performance.now();
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => call("GET", `${i % 2 ? b.url : a.url}/`)),
        );
        const refills = Math.ceil((performance.now() - startedAt) / 250);
        const allowed = answers.filter((r) => r.status === 200).length;
        expect(allowed).toBeGreaterThanOrEqual(4);
        expect(allowed).toBeLessThanOrEqual(5 + refills);
        expect(answers.filter((r) => r.status !== 200).every((r) => r.status === 429)).toBe(true);
        expect(answers.find((r) => r.status === 429)?.json).toMatchObject({ error_code: 429 });
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    }, 60_000);
  }
});

describe("Idempotency-Key store on Redis Cluster", () => {
  let store: IdempotencyStore;
  beforeAll(() => {
    const nodes = redisCluster.ports.map((port) => ({ host: "127.0.0.1", port }));
    store = createRedisStore({ kind: "cluster", nodes, password: null }, silentLogger, {
      waitMs: 5000,
      minReplicas: 0,
    });
  });
  afterAll(async () => {
    await store?.close();
  });
  // Redis's clock cannot be moved: a lapsing lease (5 ms) is outlived by waiting.
  storeContract(
    () => ({ store, now: Date.now, lapse: () => new Promise((r) => setTimeout(r, 20)) }),
    (name) => unique(name),
  );

  it("asks each key's own node to WAIT for replicas: with none, claims are refused and let go", async () => {
    const nodes = redisCluster.ports.map((port) => ({ host: "127.0.0.1", port }));
    const waiting = createRedisStore({ kind: "cluster", nodes, password: null }, silentLogger, {
      waitMs: 600,
      minReplicas: 1,
    });
    try {
      // Keys over several slots, so over every node: each pipeline goes to its key's node.
      for (const key of Array.from({ length: 6 }, (_, i) => unique(`wait-${i}`))) {
        await expect(waiting.claim(key, "fp", 60_000, 60_000)).rejects.toBeInstanceOf(StoreNotReplicatedError);
        let next = await store.claim(key, "fp", 60_000, 60_000);
        for (let i = 0; i < 50 && next.kind !== "claimed"; i++) {
          await new Promise((r) => setTimeout(r, 20));
          next = await store.claim(key, "fp", 60_000, 60_000);
        }
        // Released, not lapsed: a fresh claim with nothing to take over.
        expect(next).toMatchObject({ kind: "claimed", prior: [] });
      }
    } finally {
      await waiting.close();
    }
  });
});
