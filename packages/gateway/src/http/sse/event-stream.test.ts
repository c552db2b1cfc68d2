/**
 * The event stream on a real node server (port 0) with a source of endless records: what a
 * reader that stops reading costs, heartbeats, replacement and shutdown.
 */
import { type IncomingMessage, request } from "node:http";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../config.ts";
import { createLogger } from "../../log.ts";
import { createMetrics } from "../../metrics.ts";
import { createErrorHandler } from "../error-handler.ts";
import { createHttpServer, type HttpServer } from "../server.ts";
import { EventStream, outgoingOf, type StreamSettings, type StreamSource } from "./event-stream.ts";
import { createStreamRegistry, type StreamRegistry } from "./streams.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `eventBytes`-sized events whenever asked, or nothing at all when idle. */
class FakeSource implements StreamSource {
  pumps = 0;
  bytes = 0;
  closed = false;
  readonly eventBytes: number;
  readonly idle: boolean;
  constructor(eventBytes: number, idle = false) {
    this.eventBytes = eventBytes;
    this.idle = idle;
  }
  async pump(waitMs: number, maxBytes: number, write: (text: string, events: number) => boolean) {
    if (this.idle) {
      await sleep(Math.min(waitMs, 50));
      return 0;
    }
    this.pumps++;
    const count = Math.max(1, Math.floor(maxBytes / this.eventBytes));
    const event = `id: ${this.pumps}\ndata: ${"x".repeat(this.eventBytes - 20)}\n\n`;
    const text = event.repeat(count);
    if (!write(text, count)) return 0;
    this.bytes += text.length;
    return count;
  }
  async close() {
    this.closed = true;
  }
}

const config = parseConfig({ "bootstrap.servers": "unused:9092" });
let server: HttpServer | null = null;
let registry: StreamRegistry | null = null;

afterEach(async () => {
  await registry?.closeAll();
  await server?.close(100);
  server = null;
  registry = null;
});

async function serve(settings: Partial<StreamSettings>, sources: StreamSource[]) {
  const streamSettings = { ...config.stream, ...settings };
  const metrics = createMetrics("test");
  const streams = createStreamRegistry(streamSettings, metrics);
  registry = streams;
  const app = new Hono();
  app.get("/stream", (c) => {
    streams.admit();
    const source = sources.shift() as StreamSource;
    return new EventStream({
      kind: "topic",
      source,
      settings: streamSettings,
      metrics,
      tracker: streams,
      outgoing: outgoingOf(c),
      exclusiveKey: c.req.query("key"),
    }).response();
  });
  app.onError(createErrorHandler(createLogger("error", {})));
  server = createHttpServer(app.fetch, config.http);
  const { port } = (await server.listen({ host: "127.0.0.1", port: 0 })) as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, metrics, streams };
}

function open(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { accept: "text/event-stream" } }, resolve);
    req.on("error", reject);
    req.end();
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of res) text += chunk;
  return text;
}

describe("event stream", () => {
  it("stops taking records from a reader that does not read, then drops it with an error event", async () => {
    const source = new FakeSource(4096);
    const { url, metrics } = await serve({ slowReaderTimeoutMs: 1500, heartbeatMs: 1000, batchMaxBytes: 65_536 }, [
      source,
    ]);
    const res = await open(`${url}/stream`);
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    res.pause();
    // Once the socket buffers are full nothing more is taken (unbounded would be gigabytes).
    let taken = -1;
    for (let i = 0; i < 20 && source.bytes !== taken; i++) {
      taken = source.bytes;
      await sleep(150);
    }
    expect(source.bytes).toBe(taken);
    expect(taken).toBeLessThan(64 * 1024 * 1024);
    const buffered = (await metrics.sseBufferedBytes.get()).values[0]?.value ?? 0;
    expect(buffered).toBeLessThanOrEqual(2 * 65_536 + 64 * 1024);
    for (let i = 0; i < 40 && !source.closed; i++) await sleep(100);
    expect((await metrics.sseSlowReadersDropped.get()).values[0]?.value).toBe(1);
    expect(source.closed).toBe(true);
    // The reader that comes back finds what was written, then the reason, then the end.
    const text = await readAll(res.resume());
    expect(text.length).toBeGreaterThan(0);
    const tail = text.slice(text.lastIndexOf("event: error"));
    expect(tail).toMatch(/^event: error\ndata: \{"reason":"slow_reader","message":"[^"]+"\}\n\n$/);
  });

  it("sends a heartbeat comment when there is nothing to send", async () => {
    const { url } = await serve({ heartbeatMs: 200 }, [new FakeSource(100, true)]);
    const res = await open(`${url}/stream`);
    let text = "";
    res.setEncoding("utf8");
    for await (const chunk of res) {
      text += chunk;
      if (text.includes(": ping\n\n")) break;
    }
    expect(text.startsWith("retry: 1000\n: wharf topic stream\n\n")).toBe(true);
    res.destroy();
  });

  it("ends a stream when a newer one with the same key opens, and all of them on shutdown", async () => {
    const first = new FakeSource(100, true);
    const second = new FakeSource(100, true);
    const other = new FakeSource(100, true);
    const { url, streams } = await serve({ heartbeatMs: 200 }, [first, second, other]);
    const a = await open(`${url}/stream?key=k`);
    const endA = readAll(a);
    const b = await open(`${url}/stream?key=k`);
    expect(await endA).toContain(": replaced by a newer stream of this consumer instance\n\n");
    expect(first.closed).toBe(true);
    const c = await open(`${url}/stream`);
    expect(streams.size).toBe(2);
    const ends = Promise.all([readAll(b), readAll(c)]);
    await streams.closeAll();
    for (const text of await ends) expect(text).toContain(": node shutting down");
    expect(second.closed && other.closed).toBe(true);
    expect(() => streams.admit()).toThrow(/shutting down/);
  });

  it("refuses streams beyond stream.max.open with 429", async () => {
    const { url } = await serve({ maxOpen: 1 }, [new FakeSource(100, true), new FakeSource(100, true)]);
    const first = await open(`${url}/stream`);
    const second = await open(`${url}/stream`);
    expect(second.statusCode).toBe(429);
    expect(JSON.parse(await readAll(second)).error_code).toBe(429);
    first.destroy();
  });
});
