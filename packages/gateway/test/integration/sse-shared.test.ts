/**
 * Topic event streams that share one Kafka consumer: live streams on one gateway read from one
 * feed and get the same events, ids included; one leaving changes nothing for the others; a
 * stream from the beginning reads on its own consumer until it reaches the feed, then joins it;
 * a stream that stops reading leaves the feed and the others keep going; the consumers are gone
 * once the streams are (wharf_sse_topic_consumers back to 0).
 */
import { describe, expect, it } from "vitest";
import { metric } from "./consumer-helpers.ts";
import { createTopic, gatewayUrl, sleep, unique } from "./helpers.ts";
import { cursorOf, kafkaProducer, readEvents, recordOf, SseConnection, type SseEvent } from "./sse-helpers.ts";

/** The gateway's wharf_sse_topic_consumers gauge, by kind. */
async function consumers(url: string): Promise<{ shared: number; own: number }> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const value = (kind: string) =>
    Number(new RegExp(`^wharf_sse_topic_consumers\\{[^}]*kind="${kind}"[^}]*\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { shared: value("shared"), own: value("own") };
}

async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (JSON.stringify(last) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) expect(last).toEqual(expected);
    await sleep(100);
    last = await read();
  }
}

const strip = (events: SseEvent[]) => events.map((e) => ({ id: e.id, data: e.data }));

describe("topic event streams sharing one consumer", () => {
  it("feeds live streams from one consumer, hands a replay over to it, and closes it with the last stream", async () => {
    const url = gatewayUrl(0);
    const topic = await createTopic(unique("sse-shared"), 2);
    const kafka = await kafkaProducer();
    const base = `${url}/topics/${topic}/stream?format=json`;
    await eventually(() => consumers(url), { shared: 0, own: 0 });

    const live = await Promise.all([1, 2, 3].map(() => SseConnection.open(base)));
    expect(live.map((s) => s.status)).toEqual([200, 200, 200]);
    expect(await consumers(url)).toEqual({ shared: 1, own: 0 });
    // Another format renders other bytes: a feed of its own.
    const text = await SseConnection.open(`${url}/topics/${topic}/stream?format=string`);
    expect(await consumers(url)).toEqual({ shared: 2, own: 0 });

    for (let i = 0; i < 20; i++) kafka.send(topic, i % 2, JSON.stringify({ i }));
    await kafka.flush();
    const first = await Promise.all(live.map((s) => readEvents(s, 20)));
    for (const events of first.slice(1)) expect(strip(events)).toEqual(strip(first[0] as SseEvent[]));
    const records = (first[0] as SseEvent[]).map(recordOf);
    for (const p of [0, 1]) {
      expect(records.filter((r) => r.partition === p).map((r) => r.offset)).toEqual(
        Array.from({ length: 10 }, (_, i) => i),
      );
    }
    expect(cursorOf(first[0]?.at(-1)?.id as string)).toEqual(
      new Map([
        [`${topic}:0`, 10],
        [`${topic}:1`, 10],
      ]),
    );
    // Its own consumer may interleave the partitions otherwise.
    const texts = (await readEvents(text, 20)).map((e) => recordOf(e).value as string);
    expect(texts.sort()).toEqual(records.map((r) => JSON.stringify(r.value)).sort());

    // A replay from the beginning reads on its own consumer, then joins the feed where it stands.
    const replay = await SseConnection.open(`${base}&from=earliest`);
    const replayed = await readEvents(replay, 20);
    const datas = (events: SseEvent[]) => events.map((e) => e.data).sort();
    expect(datas(replayed)).toEqual(datas(first[0] as SseEvent[]));
    await eventually(() => consumers(url), { shared: 2, own: 0 });

    // One live stream leaves; the others, the joined replay among them, go on alike.
    live[0]?.close();
    for (let i = 20; i < 30; i++) kafka.send(topic, i % 2, JSON.stringify({ i }));
    await kafka.flush();
    const second = await Promise.all([live[1], live[2], replay].map((s) => readEvents(s as SseConnection, 10)));
    for (const events of second.slice(1)) expect(strip(events)).toEqual(strip(second[0] as SseEvent[]));
    expect(second[0]?.map((e) => (recordOf(e).value as { i: number }).i).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 10 }, (_, i) => 20 + i),
    );

    // A resume with the last id reads on from the feed at once.
    const resumed = await SseConnection.open(base, { lastEventId: second[0]?.at(-1)?.id as string });
    expect(await consumers(url)).toEqual({ shared: 2, own: 0 });
    kafka.send(topic, 0, JSON.stringify({ i: 30 }));
    await kafka.flush();
    const [a, b] = await Promise.all([readEvents(resumed, 1), readEvents(live[1] as SseConnection, 1)]);
    expect(strip(a)).toEqual(strip(b));

    for (const s of [live[1], live[2], replay, resumed, text]) s?.close();
    await kafka.close();
    await eventually(() => consumers(url), { shared: 0, own: 0 });
  });

  it("a stream that stops reading leaves the feed; the others get every record", async () => {
    const url = gatewayUrl(0);
    const topic = await createTopic(unique("sse-shared-slow"), 1);
    const base = `${url}/topics/${topic}/stream`;
    const reader = await SseConnection.open(base);
    const stalled = await SseConnection.open(base);
    const kafka = await kafkaProducer();
    const payload = Buffer.alloc(10 * 1024, 7);
    const total = 4000;
    const droppedBefore = await metric(url, "wharf_sse_slow_readers_dropped_total");
    const producing = (async () => {
      for (let i = 0; i < total; i++) {
        kafka.send(topic, 0, payload);
        if (i % 100 === 99) await kafka.flush();
      }
      await kafka.flush();
    })();
    // 53 MiB of events: far past what the feed lets one subscriber hold, and past socket buffers.
    const events = await readEvents(reader, total, 60_000);
    await producing;
    await kafka.close();
    expect(events.map((e) => recordOf(e).offset)).toEqual(Array.from({ length: total }, (_, i) => i));
    // The stalled stream reads on its own consumer now, until the slow-reader watchdog drops it.
    await eventually(
      async () => (await metric(url, "wharf_sse_slow_readers_dropped_total")) - droppedBefore,
      1,
      30_000,
    );
    let last: SseEvent | null = null;
    const got: SseEvent[] = [];
    for (;;) {
      const event = await stalled.next(20_000);
      if (event === null) break;
      if (event.event === "message") got.push(event);
      last = event;
    }
    expect(JSON.parse(last?.data as string)).toMatchObject({ reason: "slow_reader" });
    // What it got before the drop is a gapless prefix, ids as the reader's.
    expect(strip(got)).toEqual(strip(events.slice(0, got.length)));
    reader.close();
    stalled.close();
    await eventually(() => consumers(url), { shared: 0, own: 0 });
  });
  it("a reconnect with no feed to join makes its consumer the feed once caught up; a live stream then shares it", async () => {
    const url = gatewayUrl(0);
    const topic = await createTopic(unique("sse-shared-promote"), 2);
    const kafka = await kafkaProducer();
    for (let i = 0; i < 40; i++) kafka.send(topic, i % 2, JSON.stringify({ i }));
    await kafka.flush();
    const base = `${url}/topics/${topic}/stream?format=json`;
    const resumed = await SseConnection.open(base, { lastEventId: `${topic}:0:5,${topic}:1:5` });
    expect((await readEvents(resumed, 30)).length).toBe(30);
    await eventually(() => consumers(url), { shared: 1, own: 0 });
    const live = await SseConnection.open(base);
    expect(await consumers(url)).toEqual({ shared: 1, own: 0 });
    kafka.send(topic, 1, JSON.stringify({ i: 40 }));
    await kafka.flush();
    await kafka.close();
    const [a, b] = await Promise.all([readEvents(resumed, 1), readEvents(live, 1)]);
    expect(strip(a)).toEqual(strip(b));
    expect(cursorOf(a[0]?.id as string)).toEqual(
      new Map([
        [`${topic}:0`, 20],
        [`${topic}:1`, 21],
      ]),
    );
    resumed.close();
    live.close();
    await eventually(() => consumers(url), { shared: 0, own: 0 });
  });
});
