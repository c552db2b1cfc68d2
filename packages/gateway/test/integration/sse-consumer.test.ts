/**
 * Consumer instance event streams (GET records with Accept: text/event-stream): passed through
 * from any node to the owner, offsets as the instance's commit settings say, and a resume with
 * Last-Event-ID after the owner is SIGKILLed. Kills and restores gateways.
 */
import { afterEach, describe, expect, it } from "vitest";
import { killGateway, startGateway } from "../../../../deploy/stack/index.ts";
import { createConsumer, instanceCall, instancePath, metric, ownerOf, readUntil, redis } from "./consumer-helpers.ts";
import { createTopic, lbUrl, sleep, stack, unique, V2_JSON_FORMAT } from "./helpers.ts";
import { cursorOf, follow, kafkaProducer, readEvents, recordOf, SseConnection } from "./sse-helpers.ts";

async function produceSpread(topic: string, count: number, from = 0) {
  const kafka = await kafkaProducer();
  for (let i = from; i < from + count; i++)
    kafka.send(topic, i % 3, JSON.stringify(i), { headers: [{ n: String(i) }] });
  await kafka.flush();
  await kafka.close();
}

async function owner(group: string, name: string): Promise<string> {
  const client = redis();
  try {
    return (await ownerOf(client, group, name)) as string;
  } finally {
    client.disconnect();
  }
}

const killed: string[] = [];
afterEach(async () => {
  if (killed.length === 0) return;
  while (killed.length > 0) await startGateway(stack(), killed.pop() as string);
  await sleep(2500);
});

describe("consumer instance event stream", () => {
  it("streams through a node that does not own the instance; a commit covers exactly what was written", async () => {
    const topic = await createTopic(unique("sse-consumer"), 3);
    await produceSpread(topic, 30);
    const group = unique("g");
    const consumer = await createConsumer(lbUrl(), group, "c1", { format: "json", "auto.commit.enable": "false" });
    const idle = await SseConnection.open(instancePath(consumer, "/records"));
    expect([idle.status, JSON.parse(await idle.text()).error_code]).toEqual([409, 40903]);
    expect((await instanceCall(consumer, "POST", "/subscription", { topics: [topic] })).status).toBe(204);

    const ownerId = await owner(group, "c1");
    const other = stack().gateways.find((g) => g.id !== ownerId) as { url: string; id: string };
    const forwardsBefore = await metric(other.url, "wharf_forwards_total");
    const viaOther = { ...consumer, base: other.url };
    const connection = await SseConnection.open(instancePath(viaOther, "/records"));
    expect(connection.status).toBe(200);
    expect(connection.headers["content-type"]).toMatch(/^text\/event-stream/);
    const events = await readEvents(connection, 30);
    expect(await metric(other.url, "wharf_forwards_total")).toBeGreaterThan(forwardsBefore);
    const ownerUrl = stack().gateways.find((g) => g.id === ownerId)?.url as string;
    expect(await metric(ownerUrl, "wharf_sse_streams")).toBe(1);
    connection.close();

    const records = events.map(recordOf);
    expect(records.map((r) => r.value as number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    );
    for (const r of records) {
      expect(r.topic).toBe(topic);
      expect(r.headers).toEqual([{ name: "n", value: Buffer.from(String(r.value)).toString("base64") }]);
      expect(typeof r.timestamp).toBe("number");
    }
    const cursor = cursorOf(connection.lastEventId);
    expect(cursor).toEqual(new Map([0, 1, 2].map((p) => [`${topic}:${p}`, 10])));

    // A commit without a body commits what the instance handed out: exactly the events written.
    expect((await instanceCall(consumer, "POST", "/offsets")).status).toBe(200);
    const committed = await instanceCall(consumer, "GET", "/offsets", {
      partitions: [0, 1, 2].map((partition) => ({ topic, partition })),
    });
    expect(committed.status).toBe(200);
    for (const o of committed.json.offsets) expect(o.offset).toBe(cursor.get(`${topic}:${o.partition}`));

    // Plain reads go on where the stream stopped.
    await produceSpread(topic, 3, 30);
    const next = await readUntil(consumer, 3);
    expect(next.map((r) => r.value as number).sort((a, b) => a - b)).toEqual([30, 31, 32]);
    expect((await instanceCall(consumer, "DELETE", "")).status).toBe(204);
  });

  it("a newer stream of the same instance replaces the older one", async () => {
    const topic = await createTopic(unique("sse-replace"), 3);
    const consumer = await createConsumer(lbUrl(), unique("g"), "c1", { format: "json" });
    expect((await instanceCall(consumer, "POST", "/subscription", { topics: [topic] })).status).toBe(204);
    const first = await SseConnection.open(instancePath(consumer, "/records"));
    expect(first.status).toBe(200);
    const second = await SseConnection.open(instancePath(consumer, "/records"));
    expect(second.status).toBe(200);
    expect(await first.next(10_000)).toBeNull();
    expect(first.comments.some((c) => c.includes("replaced"))).toBe(true);
    await produceSpread(topic, 3);
    expect((await readEvents(second, 3)).map((e) => recordOf(e).value as number).sort()).toEqual([0, 1, 2]);
    second.close();
    expect((await instanceCall(consumer, "DELETE", "")).status).toBe(204);
  });

  it("resumes after the owner is SIGKILLed, at the Last-Event-ID even where auto-commit went further", async () => {
    const topic = await createTopic(unique("sse-consumer-kill"), 3);
    const total = 90;
    await produceSpread(topic, total);
    const group = unique("g");
    const consumer = await createConsumer(lbUrl(), group, "c1", { format: "json" });
    expect((await instanceCall(consumer, "POST", "/subscription", { topics: [topic] })).status).toBe(204);

    const path = instancePath(consumer, "/records");
    const connection = await SseConnection.open(path, { accept: `text/event-stream, ${V2_JSON_FORMAT};q=0.5` });
    expect(connection.status).toBe(200);
    const before = await readEvents(connection, 30);
    const lastEventId = connection.lastEventId;
    // The gateway wrote more than the client took, and auto-commit (every 5 s) committed it.
    await sleep(6000);
    const committed = await instanceCall(consumer, "GET", "/offsets", {
      partitions: [0, 1, 2].map((partition) => ({ topic, partition })),
    });
    const cursor = cursorOf(lastEventId);
    const ahead = committed.json.offsets.filter(
      (o: { partition: number; offset: number }) => o.offset > (cursor.get(`${topic}:${o.partition}`) ?? 0),
    );
    expect(ahead.length).toBeGreaterThan(0);

    const victim = await owner(group, "c1");
    await killGateway(stack(), victim, "SIGKILL");
    killed.push(victim);
    connection.close();

    const started = Date.now();
    const after = await follow(path, (e) => e.length >= total - before.length, { lastEventId, deadlineMs: 90_000 });
    const all = [...before, ...after.events].map(recordOf);
    for (let p = 0; p < 3; p++) {
      expect(all.filter((r) => r.partition === p).map((r) => r.offset)).toEqual(
        Array.from({ length: total / 3 }, (_, i) => i),
      );
    }
    expect(after.statuses.filter((s) => s !== 200 && s !== 503 && s !== 0)).toEqual([]);
    expect(await owner(group, "c1")).not.toBe(victim);
    console.log(
      `consumer stream failover: resumed ${Date.now() - started} ms after the kill; attempts ${after.statuses.join(",")}`,
    );
    await instanceCall(consumer, "DELETE", "", undefined, { retryUntilMs: 10_000 });
  });
});
