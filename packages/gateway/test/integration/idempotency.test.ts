/**
 * Idempotency-Key through the real stack: three gateways sharing Redis, a real Kafka read back
 * with a plain consumer, and a lone in-process gateway keeping keys in memory.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IdempotencyStore } from "../../src/http/idempotency/store.ts";
import { storeContract } from "../../src/http/idempotency/store-contract.ts";
import { createRedisStore } from "../../src/http/idempotency/store-redis.ts";
import { silentLogger } from "../../src/log.ts";
import { metric } from "./consumer-helpers.ts";
import { gatewayUrl, readTopic, stack, unique } from "./helpers.ts";
import { b64, createTopic, expectNothingWritten, produceV2, produceV3, reportLines } from "./produce-helpers.ts";
import { type RunningGateway, startGateway } from "./security-helpers.ts";

const keyHeader = () => ({ "idempotency-key": `"${randomUUID()}"` });
const replayed = (res: { headers: Record<string, unknown> }) => res.headers["idempotent-replayed"] === "true";

describe("Idempotency-Key across the cluster (Redis)", () => {
  it("answers the same keyed v2 request on another node with the first answer and writes once", async () => {
    const topic = await createTopic(unique("idem-v2"), 1);
    const headers = keyHeader();
    const body = { records: [{ value: b64("once") }] };
    const first = await produceV2(topic, body, { base: gatewayUrl(0), headers });
    expect(first.status, first.text).toBe(200);
    expect(replayed(first)).toBe(false);
    const second = await produceV2(topic, body, { base: gatewayUrl(1), headers });
    expect(second.status).toBe(200);
    expect(replayed(second)).toBe(true);
    expect(second.text).toBe(first.text);
    expect(second.headers["content-type"]).toBe(first.headers["content-type"]);
    // The sentinel lands right after the one record: the repeat wrote nothing.
    await expectNothingWritten(topic, 1, gatewayUrl(2));
    expect((await readTopic(topic, 2))[0]?.value?.toString()).toBe("once");
  });

  it("refuses the key for another body on any node with 422 / 42209", async () => {
    const topic = await createTopic(unique("idem-reuse"), 1);
    const headers = keyHeader();
    expect((await produceV2(topic, { records: [{ value: b64("a") }] }, { base: gatewayUrl(0), headers })).status).toBe(
      200,
    );
    const other = await produceV2(topic, { records: [{ value: b64("b") }] }, { base: gatewayUrl(2), headers });
    expect(other.status).toBe(422);
    expect(other.json).toEqual({ error_code: 42209, message: expect.stringContaining("Idempotency-Key") });
    await expectNothingWritten(topic, 1, gatewayUrl(1));
  });

  it("writes once when five duplicates arrive at once on three nodes", async () => {
    const topic = await createTopic(unique("idem-race"), 1);
    const headers = keyHeader();
    const body = { records: [{ value: b64("raced") }] };
    const answers = await Promise.all(
      [0, 1, 2, 0, 1].map((node) => produceV2(topic, body, { base: gatewayUrl(node), headers })),
    );
    const served = answers.filter((a) => a.status === 200);
    // Each duplicate either waited for the first answer or was told 409 to retry: never a write.
    expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
    expect(served.filter((a) => !replayed(a))).toHaveLength(1);
    expect(new Set(served.map((a) => a.text)).size).toBe(1);
    for (const conflict of answers.filter((a) => a.status === 409)) expect(conflict.json.error_code).toBe(40904);
    await expectNothingWritten(topic, 1, gatewayUrl(2));
  });

  it("replays v3 single-record and records:batch answers on another node", async () => {
    const topic = await createTopic(unique("idem-v3"), 1);
    const single = keyHeader();
    const record = { value: { type: "STRING", data: "single" } };
    const first = await produceV3(topic, record, { base: gatewayUrl(0), headers: single });
    expect(first.status, first.text).toBe(200);
    expect(reportLines(first.text)).toMatchObject([{ error_code: 200, offset: 0 }]);
    const again = await produceV3(topic, record, { base: gatewayUrl(1), headers: single });
    expect(replayed(again)).toBe(true);
    expect(again.text).toBe(first.text);

    const batch = keyHeader();
    const entries = { entries: [{ id: "e1", value: { type: "STRING", data: "batched" } }] };
    const firstBatch = await produceV3(topic, entries, { batch: true, base: gatewayUrl(2), headers: batch });
    expect(firstBatch.status, firstBatch.text).toBe(207);
    expect(firstBatch.json.successes).toMatchObject([{ id: "e1", offset: 1 }]);
    const batchAgain = await produceV3(topic, entries, { batch: true, base: gatewayUrl(0), headers: batch });
    expect(batchAgain.status).toBe(207);
    expect(replayed(batchAgain)).toBe(true);
    expect(batchAgain.text).toBe(firstBatch.text);
    await expectNothingWritten(topic, 2, gatewayUrl(1));
  });

  it("counts replays and conflicts in wharf_idempotency_requests_total", async () => {
    const topic = await createTopic(unique("idem-metric"), 1);
    const headers = keyHeader();
    const before = await metric(gatewayUrl(1), "wharf_idempotency_requests_total");
    await produceV2(topic, { records: [{ value: b64("m") }] }, { base: gatewayUrl(1), headers });
    await produceV2(topic, { records: [{ value: b64("m") }] }, { base: gatewayUrl(1), headers });
    await produceV2(topic, { records: [{ value: b64("n") }] }, { base: gatewayUrl(1), headers });
    const res = await fetch(`${gatewayUrl(1)}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/wharf_idempotency_requests_total\{[^}]*outcome="replayed"[^}]*\} [1-9]/);
    expect(text).toMatch(/wharf_idempotency_requests_total\{[^}]*outcome="mismatch"[^}]*\} [1-9]/);
    expect((await metric(gatewayUrl(1), "wharf_idempotency_requests_total")) - before).toBe(3);
  });
});

describe("Redis idempotency store", () => {
  const answer = { status: 200, contentType: "application/json", body: Buffer.from('{"ok":true}') };

  describe("claims (the contract the memory store keeps too)", () => {
    let store: IdempotencyStore;
    beforeAll(() => {
      store = createRedisStore({ kind: "standalone", url: stack().redis as string }, silentLogger, {
        waitMs: 5000,
        minReplicas: 0,
      });
    });
    afterAll(async () => {
      await store?.close();
    });
    // Redis's clock cannot be moved: a lapsing lease (5 ms) is outlived by waiting.
    storeContract(
      () => ({ store, now: Date.now, lapse: () => new Promise((r) => setTimeout(r, 20)) }),
      (name) => unique(name),
    );
  });

  it("lets one claimer hold a key, releases it, and keeps the answer only for the holder", async () => {
    const store = createRedisStore({ kind: "standalone", url: stack().redis as string }, silentLogger, {
      waitMs: 5000,
      minReplicas: 0,
    });
    try {
      const key = unique("store");
      const first = await store.claim(key, "fp", 5000, 60_000);
      if (first.kind !== "claimed") throw new Error(`not claimed: ${first.kind}`);
      expect(await store.claim(key, "fp-2", 5000, 60_000)).toEqual({ kind: "in-flight", fingerprint: "fp" });
      expect(await store.renew(key, first.token, 5000)).toBe(true);
      await store.release(key, first.token);

      const second = await store.claim(key, "fp", 5000, 60_000);
      if (second.kind !== "claimed") throw new Error(`not claimed: ${second.kind}`);
      // The first holder's token is stale: it can neither renew, complete nor release the key.
      expect(await store.renew(key, first.token, 5000)).toBe(false);
      expect(await store.complete(key, first.token, "fp", answer, 60_000)).toBe(false);
      await store.release(key, first.token);
      expect((await store.claim(key, "fp", 5000, 60_000)).kind).toBe("in-flight");

      expect(await store.complete(key, second.token, "fp", answer, 60_000)).toBe(true);
      const done = await store.claim(key, "fp", 5000, 60_000);
      expect(done).toMatchObject({ kind: "done", fingerprint: "fp", answer: { status: 200 } });
      if (done.kind === "done") expect(Buffer.from(done.answer.body).toString()).toBe('{"ok":true}');
    } finally {
      await store.close();
    }
  });

  it("lets a claim whose holder stopped renewing lapse", async () => {
    const store = createRedisStore({ kind: "standalone", url: stack().redis as string }, silentLogger, {
      waitMs: 5000,
      minReplicas: 0,
    });
    try {
      const key = unique("lapse");
      expect((await store.claim(key, "fp", 50, 60_000)).kind).toBe("claimed");
      let next = await store.claim(key, "fp", 5000, 60_000);
      for (let i = 0; i < 100 && next.kind !== "claimed"; i++) {
        await new Promise((r) => setTimeout(r, 20));
        next = await store.claim(key, "fp", 5000, 60_000);
      }
      expect(next.kind).toBe("claimed");
    } finally {
      await store.close();
    }
  });
});

describe("Idempotency-Key on a lone node (memory store)", () => {
  let node: RunningGateway;
  beforeAll(async () => {
    node = await startGateway({});
  });
  afterAll(async () => {
    await node?.close();
  });

  it("replays the first answer, writes once, and refuses another body", async () => {
    const topic = await createTopic(unique("idem-memory"), 1);
    const headers = keyHeader();
    const body = { records: [{ value: b64("mem") }] };
    const first = await produceV2(topic, body, { base: node.url, headers });
    expect(first.status, first.text).toBe(200);
    const again = await produceV2(topic, body, { base: node.url, headers });
    expect(replayed(again)).toBe(true);
    expect(again.text).toBe(first.text);
    expect((await produceV2(topic, { records: [] }, { base: node.url, headers })).status).toBe(422);
    await expectNothingWritten(topic, 1, node.url);
  });
});

describe("Idempotency-Key while Redis is unreachable", () => {
  let node: RunningGateway;
  beforeAll(async () => {
    // Nothing listens on port 1: the node's Redis never connects.
    node = await startGateway({
      "redis.url": "redis://127.0.0.1:1",
      "internal.listener": "http://127.0.0.1:0",
      "cluster.secret": "idempotency-test",
    });
  });
  afterAll(async () => {
    await node?.close();
  });

  it("refuses keyed produce with a retriable 503 and serves unkeyed produce", async () => {
    const topic = await createTopic(unique("idem-noredis"), 1);
    const keyed = await produceV2(topic, { records: [{ value: b64("k") }] }, { base: node.url, headers: keyHeader() });
    expect(keyed.status).toBe(503);
    expect(keyed.headers["retry-after"]).toBe("1");
    expect(keyed.json.error_code).toBe(503);
    await expectNothingWritten(topic, 0, node.url);
  });
});
