/** Helpers for consumer tests: a v2 consumer client over HTTP and a view of Redis ownership. */
import { type Cluster, Redis } from "ioredis";
import { expect } from "vitest";
import { call, type HttpResult, sleep, stack, V2, V2_BINARY, V2_JSON_FORMAT } from "./helpers.ts";

export interface ConsumerRef {
  base: string;
  group: string;
  name: string;
  format: "binary" | "json";
}

export async function createConsumer(
  base: string,
  group: string,
  name: string,
  config: Record<string, unknown> = {},
): Promise<ConsumerRef> {
  const res = await call("POST", `${base}/consumers/${group}`, {
    headers: { "content-type": V2 },
    body: { name, format: "binary", "auto.offset.reset": "earliest", ...config },
  });
  expect(res.status, res.text).toBe(200);
  expect(res.json.instance_id).toBe(name);
  return { base, group, name, format: (config.format as "binary" | "json") ?? "binary" };
}

export const instancePath = (c: ConsumerRef, suffix = "") =>
  `${c.base}/consumers/${c.group}/instances/${c.name}${suffix}`;

/** Calls an instance route, retrying the retriable answers a client sees while ownership moves. */
export async function instanceCall(
  c: ConsumerRef,
  method: string,
  suffix: string,
  body?: object,
  options: { accept?: string; retryUntilMs?: number; seen?: number[] } = {},
): Promise<HttpResult> {
  const deadline = Date.now() + (options.retryUntilMs ?? 0);
  for (;;) {
    let res: HttpResult;
    try {
      res = await call(method, instancePath(c, suffix), {
        headers: {
          ...(body ? { "content-type": V2 } : {}),
          ...(options.accept ? { accept: options.accept } : {}),
        },
        body,
      });
    } catch (error) {
      // The connection died with the node that served it (the load balancer cannot retry a
      // request it already sent): a client retries, as it would for a 503.
      if (Date.now() > deadline) throw error;
      options.seen?.push(0);
      await sleep(250);
      continue;
    }
    options.seen?.push(res.status);
    if (res.status !== 503 || Date.now() > deadline) return res;
    await sleep(250);
  }
}

export async function readRecords(c: ConsumerRef, timeoutMs = 1000, seen?: number[], maxBytes?: number) {
  const accept = c.format === "json" ? V2_JSON_FORMAT : V2_BINARY;
  const query = `timeout=${timeoutMs}${maxBytes ? `&max_bytes=${maxBytes}` : ""}`;
  const res = await instanceCall(c, "GET", `/records?${query}`, undefined, {
    accept,
    retryUntilMs: 30_000,
    seen,
  });
  expect(res.status, res.text).toBe(200);
  return res.json as Array<{ topic: string; key: unknown; value: unknown; partition: number; offset: number }>;
}

/** Reads until `count` records arrived (or the deadline), returning all of them. */
export async function readUntil(
  c: ConsumerRef,
  count: number,
  deadlineMs = 40_000,
  seen?: number[],
  maxBytes?: number,
) {
  const out: Awaited<ReturnType<typeof readRecords>> = [];
  const deadline = Date.now() + deadlineMs;
  while (out.length < count && Date.now() < deadline) out.push(...(await readRecords(c, 1000, seen, maxBytes)));
  return out;
}

export function redis(): Redis {
  return new Redis(stack().redis as string, { maxRetriesPerRequest: 1 });
}

/** The node id holding an instance's lease. */
export async function ownerOf(client: Redis | Cluster, group: string, name: string): Promise<string | null> {
  // The braces are the directory's Redis Cluster hash tag (record and lease in one slot).
  const lease = await client.get(`wharf:lease:{${encodeURIComponent(group)}:${encodeURIComponent(name)}}`);
  return lease ? lease.slice(0, lease.lastIndexOf("|")) : null;
}

export async function metric(url: string, name: string): Promise<number> {
  const res = await call("GET", `${url}/metrics`);
  let total = 0;
  for (const line of res.text.split("\n")) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/**
 * Writes `count` records to partition 0 of an empty one-partition topic through `base`, in
 * requests of 500, each keyed by the offset it will have (its number, in decimal) and valued
 * `value` (base64).
 */
export async function produceKeyedByOffset(base: string, topic: string, count: number, value: string) {
  for (let sent = 0; sent < count; sent += 500) {
    const records = Array.from({ length: Math.min(500, count - sent) }, (_, i) => ({
      key: Buffer.from(String(sent + i)).toString("base64"),
      value,
    }));
    const res = await call("POST", `${base}/topics/${topic}/partitions/0`, {
      headers: { "content-type": V2_BINARY },
      body: { records },
    });
    expect(res.status, res.text).toBe(200);
  }
}
