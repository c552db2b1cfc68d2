/**
 * Topic event streams (GET /topics/{topic}/stream) through haproxy: what is sent, and a resume
 * with Last-Event-ID after the serving gateway is SIGKILLed. Kills and restores gateways.
 */
import { afterEach, describe, expect, it } from "vitest";
import { killGateway, startGateway } from "../../../../deploy/stack/index.ts";
import { call, createTopic, lbUrl, sleep, stack, unique } from "./helpers.ts";
import {
  cursorOf,
  follow,
  gatewaysServing,
  kafkaProducer,
  readEvents,
  recordOf,
  SseConnection,
  type SseEvent,
  type StreamRecord,
} from "./sse-helpers.ts";

const killed: string[] = [];
afterEach(async () => {
  if (killed.length === 0) return;
  while (killed.length > 0) await startGateway(stack(), killed.pop() as string);
  // haproxy checks every second and needs one good answer (rise 1).
  await sleep(2500);
});

describe("topic event stream", () => {
  it("sends each record with its position, timestamp and headers; partitions, from and format select", async () => {
    const topic = await createTopic(unique("sse-topic"), 3);
    const kafka = await kafkaProducer();
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 4; i++) {
      for (let p = 0; p < 3; p++) {
        kafka.send(topic, p, JSON.stringify({ p, i }), {
          key: JSON.stringify(`k${p}-${i}`),
          headers: [{ trace: `t${i}` }],
          timestamp: t0 + i * 1000,
        });
      }
    }
    await kafka.flush();
    const base = `${lbUrl()}/topics/${topic}/stream`;

    const some = await SseConnection.open(`${base}?from=earliest&format=json&partitions=0,2`);
    expect(some.status).toBe(200);
    expect(some.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(some.headers["cache-control"]).toMatch(/no-cache/);
    const events = await readEvents(some, 8);
    some.close();
    expect(some.retry).toBe(1000);
    const records = events.map(recordOf);
    for (const r of records) {
      expect(r.topic).toBe(topic);
      expect([0, 2]).toContain(r.partition);
      const { p, i } = r.value as { p: number; i: number };
      expect(p).toBe(r.partition);
      expect(r.offset).toBe(i);
      expect(r.key).toBe(`k${p}-${i}`);
      expect(r.timestamp).toBe(t0 + i * 1000);
      expect(r.headers).toEqual([{ name: "trace", value: Buffer.from(`t${i}`).toString("base64") }]);
    }
    // Each id is the whole cursor after its event: next offset of every partition of the stream.
    expect(cursorOf(events.at(-1)?.id as string)).toEqual(
      new Map([
        [`${topic}:0`, 4],
        [`${topic}:2`, 4],
      ]),
    );
    expect(cursorOf(events[0]?.id as string).size).toBe(2);

    // From a time: records at or after it, on every partition; binary is base64.
    const since = await SseConnection.open(`${base}?from=${new Date(t0 + 2000).toISOString()}`);
    const later = (await readEvents(since, 6)).map(recordOf);
    since.close();
    expect(later.map((r) => r.offset).sort()).toEqual([2, 2, 2, 3, 3, 3]);
    const first = later.find((r) => r.partition === 1 && r.offset === 2) as StreamRecord;
    expect(Buffer.from(first.value as string, "base64").toString()).toBe('{"p":1,"i":2}');

    // From the end (the default): only what comes next, and the cursor names every partition.
    const live = await SseConnection.open(`${base}?format=string`);
    await sleep(500);
    kafka.send(topic, 1, "fresh");
    await kafka.flush();
    const [fresh] = await readEvents(live, 1);
    expect(recordOf(fresh as SseEvent)).toMatchObject({ partition: 1, offset: 4, value: "fresh" });
    expect(cursorOf(fresh?.id as string)).toEqual(
      new Map([
        [`${topic}:0`, 4],
        [`${topic}:1`, 5],
        [`${topic}:2`, 4],
      ]),
    );
    // Idle: a heartbeat comment each stream.heartbeat.ms (1 s in tests).
    await expect(live.next(2500)).rejects.toThrow(/no event/);
    expect(live.comments).toContain("ping");
    live.close();

    // Resume from a cursor given as Last-Event-ID: right after it.
    const resumed = await SseConnection.open(`${base}?format=json`, { lastEventId: events[3]?.id });
    // Partitions 0 and 2 continue from the cursor; 1, not in it, starts at the end (from=latest).
    const rest = (await readEvents(resumed, 4)).map(recordOf);
    const after = cursorOf(events[3]?.id as string);
    for (const p of [0, 2]) {
      const from = after.get(`${topic}:${p}`) as number;
      const offsets = rest.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(Array.from({ length: 4 - from }, (_, i) => from + i));
    }
    await expect(resumed.next(1500)).rejects.toThrow(/no event/);
    resumed.close();
    await kafka.close();
  });

  it("answers bad requests with REST Proxy errors", async () => {
    const topic = await createTopic(unique("sse-errors"), 2);
    const sse = { accept: "text/event-stream" };
    const missing = await call("GET", `${lbUrl()}/topics/${unique("nope")}/stream`, { headers: sse });
    expect([missing.status, missing.json.error_code]).toEqual([404, 40401]);
    const partition = await call("GET", `${lbUrl()}/topics/${topic}/stream?partitions=0,5`, { headers: sse });
    expect([partition.status, partition.json.error_code]).toEqual([404, 40402]);
    for (const query of ["from=yesterday", "partitions=a", "format=xml"]) {
      const bad = await call("GET", `${lbUrl()}/topics/${topic}/stream?${query}`, { headers: sse });
      expect([bad.status, bad.json.error_code], query).toEqual([400, 400]);
    }
    const cursor = await call("GET", `${lbUrl()}/topics/${topic}/stream`, {
      headers: { ...sse, "last-event-id": "not a cursor" },
    });
    expect(cursor.status).toBe(400);
    const json = await call("GET", `${lbUrl()}/topics/${topic}/stream`, { headers: { accept: "application/json" } });
    expect(json.status).toBe(406);
  });

  it("a node shutting down (SIGTERM) ends its streams at once, and they resume elsewhere", async () => {
    const topic = await createTopic(unique("sse-sigterm"), 3);
    const kafka = await kafkaProducer();
    for (let i = 0; i < 90; i++) kafka.send(topic, i % 3, String(i));
    await kafka.flush();
    const url = `${lbUrl()}/topics/${topic}/stream?from=earliest&format=json`;
    const first = await SseConnection.open(url);
    const before = await readEvents(first, 45);
    const [serving] = await gatewaysServing("topic");
    const started = Date.now();
    // Waits until the process has exited: streams must not hold the shutdown for its timeout.
    await killGateway(stack(), serving as string, "SIGTERM");
    killed.push(serving as string);
    const stoppedMs = Date.now() - started;
    // Whatever was written before the end is still read, then the stream ends.
    const rest: SseEvent[] = [];
    for (;;) {
      const event = await first.next(10_000).catch(() => null);
      if (event === null) break;
      rest.push(event);
    }
    expect(first.comments.some((c) => c.includes("shutting down"))).toBe(true);
    for (let i = 90; i < 120; i++) kafka.send(topic, i % 3, String(i));
    await kafka.flush();
    await kafka.close();
    const after = await follow(url, (e) => before.length + rest.length + e.length >= 120, {
      lastEventId: first.lastEventId,
    });
    expect(after.events.length).toBeGreaterThanOrEqual(30);
    const records = [...before, ...rest, ...after.events].map(recordOf);
    for (let p = 0; p < 3; p++) {
      expect(records.filter((r) => r.partition === p).map((r) => r.offset)).toEqual(
        Array.from({ length: 40 }, (_, i) => i),
      );
    }
    expect(stoppedMs).toBeLessThan(10_000);
    console.log(`SIGTERM with an open stream: node stopped in ${stoppedMs} ms`);
  });

  it("resumes with Last-Event-ID on another node when the serving node is SIGKILLed: no gap, no repeat", async () => {
    const topic = await createTopic(unique("sse-failover"), 3);
    const kafka = await kafkaProducer();
    const total = 600;
    for (let i = 0; i < 300; i++) kafka.send(topic, i % 3, String(i));
    await kafka.flush();
    // The rest arrives while the stream runs and while its node is dead.
    const producing = (async () => {
      for (let i = 300; i < total; i++) {
        kafka.send(topic, i % 3, String(i));
        if (i % 10 === 0) await sleep(20);
      }
      await kafka.flush();
    })();

    let victim: string | null = null;
    const result = await follow(
      `${lbUrl()}/topics/${topic}/stream?from=earliest&format=json`,
      (e) => e.length >= total,
      {
        deadlineMs: 90_000,
        onEvent: async (_event, all) => {
          if (all.length !== 100) return;
          const serving = await gatewaysServing("topic");
          expect(serving).toHaveLength(1);
          victim = serving[0] as string;
          await killGateway(stack(), victim, "SIGKILL");
          killed.push(victim);
        },
      },
    );
    await producing;
    await kafka.close();

    expect(victim).not.toBeNull();
    expect(result.breaks).toBeGreaterThanOrEqual(1);
    const records = result.events.map(recordOf);
    expect(records).toHaveLength(total);
    for (let p = 0; p < 3; p++) {
      const offsets = records.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(Array.from({ length: total / 3 }, (_, i) => i));
    }
    expect(new Set(records.map((r) => Number(r.value))).size).toBe(total);
    console.log(`topic stream failover: ${result.breaks} break(s), attempts ${result.statuses.join(",")}`);
  });
});
