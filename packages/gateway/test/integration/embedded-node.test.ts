/**
 * A lone node without Redis (ownership in memory), run in this process so the test can look at
 * its libuv threadpool and handles; and the cluster's internal listener refusing unsigned calls.
 */

import { lookup } from "node:dns/promises";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { signRequest } from "../../src/cluster/internal-auth.ts";
import { createGateway, parseConfig } from "../../src/index.ts";
import { createConsumer, instanceCall, readUntil } from "./consumer-helpers.ts";
import { call, createTopic, stack, unique, V2, V2_BINARY } from "./helpers.ts";

const activeHandles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;

describe("a lone node with in-memory ownership", () => {
  it("serves the consumer API, keeps the threadpool free during long-polls, and closes every handle", async () => {
    const handlesBefore = activeHandles();
    const config = parseConfig({
      "bootstrap.servers": stack().kafka,
      listeners: "http://127.0.0.1:0",
      id: "embedded",
      "log.level": "error",
      "consumer.request.timeout.ms": "4000",
    });
    const gateway = await createGateway(config);
    const { url } = await gateway.listen();
    try {
      const topic = await createTopic(unique("embedded"), 1);
      const consumer = await createConsumer(url, unique("g"), "c1", { format: "json" });
      expect(
        (await instanceCall(consumer, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] })).status,
      ).toBe(204);
      const produced = await call("POST", `${url}/topics/${topic}`, {
        headers: { "content-type": "application/vnd.kafka.json.v2+json" },
        body: { records: [{ value: "a" }, { value: "b" }] },
      });
      expect(produced.status).toBe(200);
      expect((await readUntil(consumer, 2)).map((r) => r.value)).toEqual(["a", "b"]);

      // More idle long-polls than libuv has threadpool threads (4 by default).
      const idle = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          // Reading from the end of a quiet topic: each of these waits its whole timeout.
          const c = await createConsumer(url, unique("idle"), `c${i}`, { "auto.offset.reset": "latest" });
          await instanceCall(c, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] });
          return c;
        }),
      );
      let pollsDone = 0;
      const polls = idle.map((c) =>
        call("GET", `${c.base}/consumers/${c.group}/instances/${c.name}/records`, {
          headers: { accept: V2_BINARY },
        }).then((r) => {
          pollsDone++;
          return r;
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      // File and DNS work (both use the threadpool) completes while every long-poll still waits.
      await readFile(new URL(import.meta.url));
      await lookup("localhost");
      expect(pollsDone).toBe(0);
      const answers = await Promise.all(polls);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));

      const unknown = await call("GET", `${url}/consumers/nope/instances/nope/subscription`);
      expect([unknown.status, unknown.json.error_code]).toEqual([404, 40403]);
    } finally {
      await gateway.close();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(activeHandles()).toBeLessThanOrEqual(handlesBefore);
  });
});

describe("idle expiry", () => {
  it("deletes an instance nobody used for consumer.instance.timeout.ms", async () => {
    const gateway = await createGateway(
      parseConfig({
        "bootstrap.servers": stack().kafka,
        listeners: "http://127.0.0.1:0",
        id: "expiry",
        "log.level": "error",
        "consumer.instance.timeout.ms": "1000",
      }),
    );
    const { url } = await gateway.listen();
    try {
      const consumer = await createConsumer(url, unique("g"), "short-lived");
      expect((await instanceCall(consumer, "GET", "/subscription")).status).toBe(200);
      let status = 200;
      for (let i = 0; i < 40 && status === 200; i++) {
        await new Promise((r) => setTimeout(r, 250));
        // Looking at it would keep it alive: probe a sibling route only after the deadline passed.
        if (i >= 8) status = (await instanceCall(consumer, "GET", "/subscription")).status;
      }
      expect(status).toBe(404);
    } finally {
      await gateway.close();
    }
  });
});

describe("the internal listener", () => {
  it("refuses unsigned and forged requests and serves signed ones", async () => {
    const gw = stack().gateways[0] as { internalUrl: string };
    const path = "/consumers/none/instances/none/subscription";
    const unsigned = await call("GET", `${gw.internalUrl}${path}`);
    expect([unsigned.status, unsigned.json.error_code]).toEqual([401, 40101]);

    const forged = await call("GET", `${gw.internalUrl}${path}`, {
      headers: signRequest("not-the-cluster-secret", "GET", path, new Uint8Array(0)),
    });
    expect([forged.status, forged.json.error_code]).toEqual([401, 40101]);

    const tampered = signRequest(stack().clusterSecret, "GET", path, new Uint8Array(0));
    const otherPath = await call("GET", `${gw.internalUrl}/consumers/x/instances/y/subscription`, {
      headers: tampered,
    });
    expect(otherPath.status).toBe(401);

    const signed = await call("GET", `${gw.internalUrl}${path}`, { headers: tampered });
    expect([signed.status, signed.json.error_code]).toEqual([404, 40403]);

    // The internal port serves consumer calls only: no produce, no admin.
    const produce = await call("POST", `${gw.internalUrl}/topics/x`, {
      headers: { ...signRequest(stack().clusterSecret, "POST", "/topics/x", Buffer.from("{}")), "content-type": V2 },
      body: "{}",
    });
    expect(produce.status).toBe(404);
  });
});
