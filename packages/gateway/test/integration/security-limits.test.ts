/**
 * Cluster-wide rate limits in Redis (and what happens without it), and the HTTP hardening: slow
 * clients cut off, oversized heads refused, chunked bodies capped on every route that reads one.
 */
import { connect, createServer } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, stack } from "./helpers.ts";
import { type RunningGateway, startGateway } from "./security-helpers.ts";

const clusterProps = (id: string, redisUrl = stack().redis as string) => ({
  id,
  "redis.url": redisUrl,
  "internal.listener": "http://127.0.0.1:0",
  "cluster.secret": stack().clusterSecret,
});

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("rate limits", () => {
  it("are shared by the nodes of a cluster through Redis", async () => {
    const limit = { "rate.limit.principal.requests.per.second": "4" };
    const [a, b] = await Promise.all([
      startGateway({ ...clusterProps("rl-a"), ...limit }),
      startGateway({ ...clusterProps("rl-b"), ...limit }),
    ]);
    try {
      // Sent at once, half to each node. GCRA allows the one-second burst (4) plus what refills
      // while the requests are under way (one per 250 ms): the bound follows the time they took,
      // so a slow machine loosens it instead of failing it. Per node it would be twice as many.
      const startedAt = performance.now();
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call("GET", `${i % 2 ? b.url : a.url}/`)));
      const refills = Math.ceil((performance.now() - startedAt) / 250);
      const allowed = answers.filter((r) => r.status === 200).length;
      expect(allowed).toBeGreaterThanOrEqual(4);
      expect(allowed).toBeLessThanOrEqual(5 + refills);
      expect(answers.filter((r) => r.status !== 200).every((r) => r.status === 429)).toBe(true);
      const refused = answers.find((r) => r.status === 429);
      expect(refused?.json).toMatchObject({ error_code: 429 });
      expect(refused?.headers["retry-after"]).toBe("1");
      expect(refused?.headers["x-ratelimit-limit"]).toBe("4");
      expect(refused?.headers["x-ratelimit-remaining"]).toBe("0");
      expect(answers.find((r) => r.status === 200)?.headers["x-ratelimit-limit"]).toBe("4");
      // Health probes are never limited.
      expect((await call("GET", `${a.url}/healthz`)).status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("follow rate.limit.redis.failure when Redis is unreachable", async () => {
    const dead = `redis://127.0.0.1:${await deadPort()}`;
    const limit = { "rate.limit.principal.requests.per.second": "2" };
    const [closed, local] = await Promise.all([
      startGateway({ ...clusterProps("rl-closed", dead), ...limit, "rate.limit.redis.failure": "closed" }),
      startGateway({ ...clusterProps("rl-local", dead), ...limit }),
    ]);
    try {
      const refused = await call("GET", `${closed.url}/`);
      expect([refused.status, refused.json?.error_code]).toEqual([503, 503]);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await call("GET", `${local.url}/`)).status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await Promise.all([closed.close(), local.close()]);
    }
  });
});

describe("hardening", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({
      "request.headers.timeout.ms": "1000",
      "request.timeout.ms": "2000",
      "request.max.bytes": "4096",
      "request.max.header.bytes": "8192",
    });
  });
  afterAll(() => gw?.close());

  /** Sends `head` then trickles `drip` one byte every 200 ms; resolves when the server hangs up. */
  const slowClient = (head: string, drip: string) =>
    new Promise<{ ms: number; answer: string }>((resolve) => {
      const { port } = new URL(gw.url);
      const started = Date.now();
      const socket = connect(Number(port), "127.0.0.1");
      let answer = "";
      let i = 0;
      const timer = setInterval(() => {
        if (i < drip.length && socket.writable) socket.write(drip[i++] as string);
      }, 200);
      socket.on("data", (d) => {
        answer += d.toString();
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        clearInterval(timer);
        resolve({ ms: Date.now() - started, answer });
      });
      socket.write(head);
      // Bounded either way: give up after 15 s.
      setTimeout(() => socket.destroy(), 15_000).unref();
    });

  it("cuts off a client that sends its headers too slowly (slowloris)", async () => {
    const { ms, answer } = await slowClient("GET / HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n".repeat(40));
    expect(ms).toBeLessThan(4000);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    expect(answer).toContain('"error_code":408');
  });

  it("cuts off a client that sends its body too slowly", async () => {
    const head =
      "POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.json.v2+json\r\nContent-Length: 500\r\n\r\n";
    const { ms } = await slowClient(head, "x".repeat(100));
    expect(ms).toBeLessThan(5000);
  });

  it("refuses request heads over request.max.header.bytes with 431 and a JSON body", async () => {
    const big = await call("GET", `${gw.url}/`, { headers: { "x-big": "a".repeat(9000) } }).catch((e) => e);
    expect(big.status).toBe(431);
    expect(big.json).toMatchObject({ error_code: 431 });
  });

  it("caps chunked bodies on every route that reads one", async () => {
    const chunked = async function* () {
      for (let i = 0; i < 10; i++) yield Buffer.from(`${"[".repeat(1)}${" ".repeat(1023)}`);
    };
    const routes: [string, string][] = [
      ["POST", "/topics/t"],
      ["POST", "/topics/t/partitions/0"],
      ["POST", "/v3/clusters/c/topics/t/records:batch"],
      ["POST", "/consumers/g"],
      ["POST", "/consumers/g/instances/i/subscription"],
      ["POST", "/consumers/g/instances/i/offsets"],
      ["GET", "/consumers/g/instances/i/offsets"],
    ];
    const { request } = await import("undici");
    for (const [method, path] of routes) {
      const response = await request(`${gw.url}${path}`, {
        method: method as "POST",
        headers: {
          "content-type": path.startsWith("/v3")
            ? "application/json"
            : path.startsWith("/topics")
              ? "application/vnd.kafka.json.v2+json"
              : "application/vnd.kafka.v2+json",
        },
        body: Readable.from(chunked()),
      }).catch((error: Error) => ({ statusCode: 0, error }));
      const status = response.statusCode;
      if ("body" in response) await response.body.text();
      expect([method, path, status]).toEqual([method, path, 413]);
    }
    // The streaming v3 produce has no total (it is a stream): each record is capped, and one
    // over the cap is reported in-band, which ends the stream.
    const streamed = await request(`${gw.url}/v3/clusters/c/topics/t/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Readable.from(chunked()),
    });
    const text = await streamed.body.text();
    expect([streamed.statusCode, text]).toEqual([200, expect.stringContaining("larger than allowed threshold")]);
  });
});
