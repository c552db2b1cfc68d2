/**
 * A reader that stops reading an event stream: the gateway stops consuming instead of buffering
 * (its memory and stream buffer stay bounded while Kafka holds far more), and after
 * stream.slow.reader.timeout.ms (3 s in tests) the reader is dropped with an error event.
 */
import { describe, expect, it } from "vitest";
import { metric } from "./consumer-helpers.ts";
import { createTopic, lbUrl, sleep, stack, unique } from "./helpers.ts";
import { gatewaysServing, kafkaProducer, SseConnection } from "./sse-helpers.ts";

const MiB = 1024 * 1024;

describe("slow event stream reader", () => {
  it("pauses consumption, keeps gateway memory bounded, and drops the reader with an error event", async () => {
    const topic = await createTopic(unique("sse-slow"), 3);
    const records = 6000;
    const recordBytes = 10 * 1024;
    const kafka = await kafkaProducer();
    const payload = Buffer.alloc(recordBytes, 7);
    for (let i = 0; i < records; i++) {
      kafka.send(topic, i % 3, payload);
      if (i % 500 === 499) await kafka.flush();
    }
    await kafka.flush();
    await kafka.close();

    const eventsWritten = async () =>
      (await Promise.all(stack().gateways.map((g) => metric(g.url, "wharf_sse_events_total")))).reduce((a, b) => a + b);
    const eventsBefore = await eventsWritten();
    const connection = await SseConnection.open(`${lbUrl()}/topics/${topic}/stream?from=earliest`);
    expect(connection.status).toBe(200);
    expect(await connection.next(20_000)).not.toBeNull();
    // From here on the reader reads nothing: undici stops taking from the socket.
    const [serving] = await gatewaysServing("topic");
    const url = stack().gateways.find((g) => g.id === serving)?.url as string;
    const rssBefore = await metric(url, "process_resident_memory_bytes");

    let rssMax = rssBefore;
    let bufferedMax = 0;
    const deadline = Date.now() + 30_000;
    while ((await metric(url, "wharf_sse_slow_readers_dropped_total")) < 1) {
      if (Date.now() > deadline) throw new Error("the slow reader was never dropped");
      rssMax = Math.max(rssMax, await metric(url, "process_resident_memory_bytes"));
      bufferedMax = Math.max(bufferedMax, await metric(url, "wharf_sse_buffered_bytes"));
      await sleep(200);
    }
    const written = (await eventsWritten()) - eventsBefore;
    const totalBytes = records * recordBytes;
    console.log(
      `slow reader: ${written} of ${records} events written before the drop; RSS ${Math.round(rssBefore / MiB)} -> max ${Math.round(rssMax / MiB)} MiB; stream buffer max ${Math.round(bufferedMax / 1024)} KiB (Kafka held ${Math.round(totalBytes / MiB)} MiB)`,
    );
    // Consumption paused: records stayed in Kafka while the reader stalled (how many got written
    // into socket buffers on the way depends on the machine's load, so the bound is loose).
    expect(written).toBeLessThan(records * 0.9);
    // Memory: the gateway held a small fraction of what the reader was behind.
    expect(rssMax - rssBefore).toBeLessThan(totalBytes / 2);
    // The stream's own buffer: one batch (stream.batch.max.bytes, 256 KiB) and node's socket buffer.
    expect(bufferedMax).toBeLessThanOrEqual(1 * MiB);

    // The reader that comes back finds the events written before the drop, then the reason.
    let last = null;
    let received = 1;
    for (;;) {
      const event = await connection.next(20_000);
      if (event === null) break;
      last = event;
      received++;
    }
    expect(received).toBeLessThan(records);
    expect(last?.event).toBe("error");
    expect(JSON.parse(last?.data as string)).toMatchObject({ reason: "slow_reader" });
    expect(await gatewaysServing("topic")).toEqual([]);
  });
});
