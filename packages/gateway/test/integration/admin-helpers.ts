/** Helpers for the management-plane tests: the cluster id, v3 URLs, JSON calls, waiting for Kafka. */
import { Admin, metadataV12 } from "@platformatic/kafka";
import { expect } from "vitest";
import { call, createTopic, type HttpResult, lbUrl, sleep, stack } from "./helpers.ts";

/** The ids of the stack's brokers, in start order (the test stack has three). */
export const brokerIds = () => stack().brokers.map((b: { id: number }) => b.id) as [number, number, number];

let cached: string | null = null;

export async function clusterId(): Promise<string> {
  if (cached) return cached;
  const res = await call("GET", `${lbUrl()}/v3/clusters`);
  expect(res.status, res.text).toBe(200);
  cached = res.json.data[0].cluster_id as string;
  return cached;
}

/** `<lb>/v3/clusters/<id><path>`. */
export async function v3(path = ""): Promise<string> {
  return `${lbUrl()}/v3/clusters/${await clusterId()}${path}`;
}

export function json(method: string, url: string, body?: unknown): Promise<HttpResult> {
  return call(method, url, {
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function expectError(res: HttpResult, status: number, errorCode: number, message?: string | RegExp): void {
  expect(res.status, res.text).toBe(status);
  expect(res.json.error_code, res.text).toBe(errorCode);
  if (typeof message === "string") expect(res.json.message).toBe(message);
  else if (message) expect(res.json.message).toMatch(message);
}

/** Polls until `check` passes: Kafka's metadata (ACLs, configs, new partitions) spreads in moments. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

/**
 * helpers.ts's createTopic, then waits until every broker's metadata has the topic: each gateway
 * asks whichever broker its client picks, and one that has not caught up yet would answer 40403.
 */
export async function createTopicEverywhere(name: string, partitions = 3): Promise<string> {
  await createTopic(name, partitions);
  await waitForTopicEverywhere(name, partitions);
  return name;
}

/** Waits until every broker's metadata shows the topic with `partitions` partitions. */
export async function waitForTopicEverywhere(name: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: "wharf-test-metadata", bootstrapBrokers: stack().kafka.split(",") });
  try {
    for (const connection of (await admin.connectToBrokers(null)).values()) {
      await eventually(async () => {
        const metadata = await metadataV12.api.async(connection, [name], false, false);
        expect(metadata.topics.find((t) => t.name === name)?.partitions).toHaveLength(partitions);
      });
    }
  } finally {
    await admin.close();
  }
}
