/**
 * Consumers that survive their node: SIGKILL of the owner (adoption from committed offsets),
 * SIGTERM (graceful hand-off), a Redis restart, and a few hundred instances over three nodes.
 * These tests kill and restart gateway processes of the shared stack, and restore them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { killGateway, startGateway, startRedis, stopRedis } from "../../../../deploy/stack/index.ts";
import {
  type ConsumerRef,
  createConsumer,
  instanceCall,
  metric,
  ownerOf,
  readUntil,
  redis,
} from "./consumer-helpers.ts";
import { call, createTopic, lbUrl, sleep, stack, unique, V2, V2_JSON_FORMAT } from "./helpers.ts";

const produceNumbers = async (topic: string, from: number, count: number) => {
  const res = await call("POST", `${lbUrl()}/topics/${topic}`, {
    headers: { "content-type": V2_JSON_FORMAT },
    body: { records: Array.from({ length: count }, (_, i) => ({ value: from + i })) },
  });
  expect(res.status, res.text).toBe(200);
};

/** Waits until haproxy routes to every gateway again (its health check runs every second). */
async function waitForAllGateways() {
  for (const g of stack().gateways) {
    for (let i = 0; i < 60; i++) {
      if ((await call("GET", `${g.url}/readyz`).catch(() => ({ status: 0 }))).status === 200) break;
      await sleep(250);
    }
  }
  await sleep(2500);
}

const killed: string[] = [];
afterEach(async () => {
  while (killed.length > 0) await startGateway(stack(), killed.pop() as string);
  await waitForAllGateways();
});

async function consumeCommitAndLoseOwner(signal: "SIGKILL" | "SIGTERM") {
  const topic = await createTopic(unique(`fail-${signal.toLowerCase()}`));
  const total = 90;
  await produceNumbers(topic, 0, total);
  const group = unique("g");
  const consumer: ConsumerRef = await createConsumer(lbUrl(), group, "c1", { format: "json" });
  const statuses: number[] = [];
  expect((await instanceCall(consumer, "POST", "/subscription", { topics: [topic] }, { seen: statuses })).status).toBe(
    204,
  );

  // Small reads (max_bytes) so that most records are still unread when the owner goes away.
  const before = await readUntil(consumer, 30, 40_000, statuses, 40);
  expect(before.length).toBeGreaterThanOrEqual(30);
  expect(before.length).toBeLessThan(total);
  const commit = await instanceCall(consumer, "POST", "/offsets", undefined, { seen: statuses });
  expect(commit.status).toBe(200);
  const committed = new Set(before.map((r) => r.value as number));

  const client = redis();
  const owner = await ownerOf(client, group, "c1");
  client.disconnect();
  expect(owner).toMatch(/^gw-\d$/);
  await killGateway(stack(), owner as string, signal);
  killed.push(owner as string);

  const started = Date.now();
  const after = await readUntil(consumer, total - committed.size, 60_000, statuses);
  const recoveryMs = Date.now() - started;
  const seen = new Set([...committed, ...after.map((r) => r.value as number)]);
  // Every record after the last commit is delivered again or for the first time; none is skipped.
  expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
  // Clients saw at most retriable errors while ownership moved, never "not found".
  expect(statuses.filter((s) => s !== 200 && s !== 204 && s !== 503 && s !== 0)).toEqual([]);

  const survivors = stack().gateways.filter((g) => g.id !== owner);
  const adoptions = await Promise.all(survivors.map((g) => metric(g.url, "wharf_adoptions_total")));
  expect(adoptions.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  const newOwner = await (async () => {
    const c = redis();
    try {
      return await ownerOf(c, group, "c1");
    } finally {
      c.disconnect();
    }
  })();
  expect(newOwner).not.toBe(owner);
  await instanceCall(consumer, "DELETE", "", undefined, { retryUntilMs: 10_000 });
  return { recoveryMs, retriable: statuses.filter((s) => s === 503).length };
}

describe("consumer failover", () => {
  it("adopts an instance whose owner was SIGKILLed, resuming from committed offsets", async () => {
    const { recoveryMs, retriable } = await consumeCommitAndLoseOwner("SIGKILL");
    console.log(`SIGKILL: remaining records consumed ${recoveryMs} ms after the kill; ${retriable} retriable answers`);
  });

  it("hands instances off at once on SIGTERM (graceful scale-in)", async () => {
    const { recoveryMs, retriable } = await consumeCommitAndLoseOwner("SIGTERM");
    console.log(
      `SIGTERM: remaining records consumed ${recoveryMs} ms after the signal; ${retriable} retriable answers`,
    );
  });

  it("routes to known owners or answers 503 while Redis is away, keeps producing, and recovers when it returns", async () => {
    const topic = await createTopic(unique("redis"));
    const consumer = await createConsumer(lbUrl(), unique("g"), "c1", { format: "json" });
    expect((await instanceCall(consumer, "POST", "/subscription", { topics: [topic] })).status).toBe(204);

    await stopRedis(stack());
    try {
      await sleep(500);
      // Produce does not need Redis.
      await produceNumbers(topic, 0, 10);
      // Round-robin: a node serves its own instance, forwards to the owner it last saw (an owner
      // needs no Redis to serve), or, knowing none, answers a clear 503 after redis.wait.ms.
      const answers = await Promise.all([0, 1, 2].map(() => instanceCall(consumer, "GET", "/subscription")));
      for (const answer of answers) {
        expect([200, 503]).toContain(answer.status);
        if (answer.status === 503) expect(answer.json.message).toMatch(/Redis/);
      }
      const create = await call("POST", `${lbUrl()}/consumers/${unique("g")}`, {
        headers: { "content-type": V2 },
        body: {},
      });
      expect(create.status).toBe(503);
    } finally {
      await startRedis(stack());
    }
    const statuses: number[] = [];
    const records = await readUntil(consumer, 10, 40_000, statuses);
    expect(records.map((r) => r.value as number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 10 }, (_, i) => i),
    );
    expect(statuses).not.toContain(404);
    await instanceCall(consumer, "DELETE", "", undefined, { retryUntilMs: 10_000 });
  });

  it("spreads a few hundred instances over the nodes and measures their memory", async () => {
    const count = 240;
    const group = unique("many");
    const instances = async () =>
      (await Promise.all(stack().gateways.map((g) => metric(g.url, "wharf_consumer_instances")))).reduce(
        (a, b) => a + b,
        0,
      );
    const instancesBefore = await instances();
    const rss = async () => Promise.all(stack().gateways.map((g) => metric(g.url, "process_resident_memory_bytes")));
    const rssBefore = await rss();
    const names = Array.from({ length: count }, (_, i) => `c${i}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name) => createConsumer(lbUrl(), group, name)));
    }
    const perNode = await Promise.all(stack().gateways.map((g) => metric(g.url, "wharf_consumer_instances")));
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(instancesBefore + count);
    for (const n of perNode) expect(n).toBeGreaterThan(count / 6);
    const rssAfter = await rss();
    const perInstance = (rssAfter.reduce((a, b) => a + b, 0) - rssBefore.reduce((a, b) => a + b, 0)) / count;
    console.log(
      `${count} idle consumer instances: ${perNode.join("/")} per node, ${(perInstance / 1048576).toFixed(2)} MiB RSS each`,
    );

    // Every one of them answers through the load balancer, whichever node the request lands on.
    const checks = await Promise.all(
      names.slice(0, 30).map((name) => call("GET", `${lbUrl()}/consumers/${group}/instances/${name}/subscription`)),
    );
    expect(checks.map((c) => c.status)).toEqual(checks.map(() => 200));
    for (let i = 0; i < names.length; i += 20) {
      const deleted = await Promise.all(
        names.slice(i, i + 20).map((name) => call("DELETE", `${lbUrl()}/consumers/${group}/instances/${name}`)),
      );
      expect(deleted.map((d) => d.status)).toEqual(deleted.map(() => 204));
    }
  });
});
