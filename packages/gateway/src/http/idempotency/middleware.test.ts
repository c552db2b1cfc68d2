/** The Idempotency-Key middleware on the real produce routes, a fake producer pool and the memory store. */
import { Hono, type MiddlewareHandler } from "hono";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../config.ts";
import { recoveryIncomplete } from "../../errors.ts";
import { deliveryError, librdkafka, unconfirmedDelivery } from "../../kafka/delivery-errors.ts";
import type { DeliveryResult, OutgoingRecord, ProducerPool } from "../../kafka/producer-pool.ts";
import { createMetrics } from "../../metrics.ts";
import { setPrincipal } from "../../security/principal.ts";
import { createErrorHandler } from "../error-handler.ts";
import { produceV2Routes } from "../routes/produce-v2.ts";
import { produceV3Routes } from "../routes/produce-v3.ts";
import { fingerprint, scopedKey } from "./key.ts";
import { createIdempotencyMiddleware } from "./middleware.ts";
import { CLAIM_HEADER, parseClaimHeader } from "./record-header.ts";
import type { Recovery } from "./recovery.ts";
import { type IdempotencyStore, type PriorClaim, StoreUnavailableError } from "./store.ts";
import { createMemoryStore } from "./store-memory.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const retriable = deliveryError({ code: librdkafka.MSG_TIMED_OUT, message: "Local: Message timed out" });

interface Options {
  /** Outcome and delay of the n-th record sent. */
  deliver?: (
    n: number,
    record: OutgoingRecord,
  ) => { delayMs?: number; gate?: Promise<void>; result?: DeliveryResult; lost?: boolean };
  waitMs?: number;
  store?: IdempotencyStore;
  /** Runs before the routes, e.g. to set a principal. */
  before?: MiddlewareHandler;
  /** Throws from the topic lookup: a failure the routes do not map (500). */
  lookupFails?: () => boolean;
  /** Fails the look into "Kafka" for an orphaned claim's records. */
  recoveryFails?: () => boolean;
  /** Fails the look into "Kafka" for records delivered without an offset. */
  confirmFails?: () => boolean;
  leaseMs?: number;
  settleMs?: number;
  /** The middleware's monotonic clock. */
  now?: () => number;
  holdWrite?: () => Promise<void>;
}

/** The claim header's parts, or null for a record without one. */
const claimOf = (record: OutgoingRecord) => {
  const header = record.headers?.find((h) => h.name === CLAIM_HEADER);
  return header?.value ? parseClaimHeader(header.value) : null;
};

function setup(options: Options = {}) {
  const sent: OutgoingRecord[] = [];
  /** The topic's one partition: records sent, and records planted as a dead node's writes. */
  const log: Array<{ record: OutgoingRecord; offset: number }> = [];
  const lookups: PriorClaim[][] = [];
  const confirms: Array<{ claim: string; wanted: Array<{ index: number; partition: number }>; since: number }> = [];
  let offset = 0;
  const plant = (record: OutgoingRecord) => log.push({ record, offset: offset++ });
  const pool: ProducerPool = {
    ready: true,
    inflightRecords: 0,
    ping: async () => {},
    nextLane: () => 0,
    async partitionCount() {
      if (options.lookupFails?.()) throw new Error("lookup exploded");
      return 1;
    },
    send(records) {
      return Promise.all(
        records.map(async (record) => {
          const n = sent.push(record) - 1;
          const assigned = offset++;
          const plan = options.deliver?.(n, record) ?? {};
          // A lost record was refused by Kafka: it never reaches the partition.
          if (!plan.lost) log.push({ record, offset: assigned });
          await sleep(plan.delayMs ?? 0);
          await plan.gate;
          return plan.result ?? { ok: true, partition: 0, offset: assigned, timestamp: 1000 };
        }),
      );
    },
    close: async () => {},
  };
  const config = parseConfig({ "bootstrap.servers": "unused:9092" });
  const metrics = createMetrics("test");
  const store = options.store ?? createMemoryStore({ maxBytes: 1024 * 1024 });
  // As recovery.ts does in Kafka: the first record carrying one of the claims, by index.
  const recovery: Recovery = {
    async find(_topic, prior) {
      lookups.push(prior);
      if (options.recoveryFails?.()) throw recoveryIncomplete("more than 1 records to read");
      const ids = new Set(prior.map((p) => p.id));
      const found = new Map<number, DeliveryResult>();
      for (const { record, offset } of log) {
        const claim = claimOf(record);
        if (claim && ids.has(claim.claim) && !found.has(claim.index)) {
          found.set(claim.index, { ok: true, partition: 0, offset, timestamp: 2000 });
        }
      }
      return found;
    },
    async confirm(_topic, claim, wanted, since) {
      confirms.push({ claim, wanted: [...wanted], since });
      if (options.confirmFails?.()) throw recoveryIncomplete("more than 1 records to read");
      const indexes = new Set(wanted.map((w) => w.index));
      const found = new Map<number, DeliveryResult>();
      for (const { record, offset } of log) {
        const named = claimOf(record);
        if (named && named.claim === claim && indexes.has(named.index) && !found.has(named.index)) {
          found.set(named.index, { ok: true, partition: 0, offset, timestamp: 3000 });
        }
      }
      return found;
    },
  };
  const idempotency = createIdempotencyMiddleware({
    store,
    recovery,
    settings: {
      ttlMs: 60_000,
      waitMs: options.waitMs ?? 2000,
      leaseMs: options.leaseMs ?? 10_000,
      settleMs: options.settleMs ?? 0,
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.holdWrite ? { holdWrite: options.holdWrite } : {}),
    maxBodyBytes: config.http.maxBodyBytes,
    // biome-ignore lint/suspicious/noExplicitAny: the logger's shape is irrelevant here
    log: silent as any,
    metrics,
  });
  const app = new Hono();
  if (options.before) app.use(options.before);
  app.route("/", produceV2Routes({ config, producers: pool, idempotency }));
  app.route("/", produceV3Routes({ config, producers: pool, idempotency }));
  // biome-ignore lint/suspicious/noExplicitAny: the logger's shape is irrelevant here
  app.onError(createErrorHandler(silent as any));
  const outcomes = async () =>
    Object.fromEntries(
      (await metrics.idempotencyRequests.get()).values.map((v) => [v.labels.outcome as string, v.value]),
    );
  const recoveries = async () =>
    Object.fromEntries(
      (await metrics.idempotencyRecoveries.get()).values.map((v) => [v.labels.result as string, v.value]),
    );
  const unconfirmed = async () =>
    Object.fromEntries(
      (await metrics.idempotencyUnconfirmed.get()).values.map((v) => [v.labels.result as string, v.value]),
    );
  const fenced = async () => (await metrics.idempotencyFenced.get()).values[0]?.value ?? 0;
  return { app, sent, outcomes, recoveries, unconfirmed, fenced, plant, lookups, confirms };
}

const V2_BINARY = "application/vnd.kafka.binary.v2+json";
const b64 = (text: string) => Buffer.from(text).toString("base64");

function v2(app: Hono, key: string | null, values: string[], options: { path?: string; type?: string } = {}) {
  return app.request(options.path ?? "/topics/t", {
    method: "POST",
    headers: { "content-type": options.type ?? V2_BINARY, ...(key === null ? {} : { "idempotency-key": key }) },
    body: JSON.stringify({ records: values.map((v) => ({ value: b64(v) })) }),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
const json = async (res: Response): Promise<any> => res.json();

describe("Idempotency-Key on produce", () => {
  it("answers a repeat with the first answer and writes nothing more", async () => {
    const { app, sent, outcomes } = setup();
    const first = await v2(app, '"k-1"', ["a", "b"]);
    const firstBody = await first.text();
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();

    const again = await v2(app, '"k-1"', ["a", "b"]);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("content-type")).toBe(first.headers.get("content-type"));
    expect(await again.text()).toBe(firstBody);
    expect(sent.map((r) => r.value?.toString())).toEqual(["a", "b"]);
    expect(await outcomes()).toEqual({ stored: 1, replayed: 1 });
  });

  it("treats requests without the header, or with another key, as new", async () => {
    const { app, sent } = setup();
    await v2(app, null, ["a"]);
    await v2(app, null, ["a"]);
    await v2(app, '"k-1"', ["a"]);
    await v2(app, '"k-2"', ["a"]);
    expect(sent).toHaveLength(4);
  });

  it("refuses the key for a different body, path or content type with 422 / 42209", async () => {
    const { app, sent, outcomes } = setup();
    expect((await v2(app, '"k-1"', ["a"])).status).toBe(200);
    for (const res of [
      await v2(app, '"k-1"', ["b"]),
      await v2(app, '"k-1"', ["a"], { path: "/topics/t/partitions/0" }),
      await v2(app, '"k-1"', ["a"], { path: "/topics/other" }),
      await v2(app, '"k-1"', ["a"], { type: "application/vnd.kafka.json.v2+json" }),
    ]) {
      expect(res.status).toBe(422);
      expect((await json(res)).error_code).toBe(42209);
    }
    expect(sent).toHaveLength(1);
    expect(await outcomes()).toEqual({ stored: 1, mismatch: 4 });
  });

  it("makes concurrent repeats wait for the first answer: one write, five equal answers", async () => {
    const { app, sent } = setup({ deliver: () => ({ delayMs: 100 }) });
    const answers = await Promise.all(Array.from({ length: 5 }, () => v2(app, '"k-1"', ["a"])));
    const bodies = await Promise.all(answers.map((r) => r.text()));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(bodies).size).toBe(1);
    expect(answers.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(4);
    expect(sent).toHaveLength(1);
  });

  it("answers 409 / 40904 to a repeat that waited idempotency.wait.ms in vain", async () => {
    let letGo: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const { app, sent, outcomes } = setup({ waitMs: 50, deliver: () => ({ gate }) });
    const first = v2(app, '"k-1"', ["a"]);
    while (sent.length === 0) await sleep(5);
    const repeat = await v2(app, '"k-1"', ["a"]);
    expect(repeat.status).toBe(409);
    expect(repeat.headers.get("retry-after")).toBe("1");
    expect((await json(repeat)).error_code).toBe(40904);
    letGo();
    const firstBody = await (await first).text();
    const later = await v2(app, '"k-1"', ["a"]);
    expect(await later.text()).toBe(firstBody);
    expect(sent).toHaveLength(1);
    expect(await outcomes()).toEqual({ stored: 1, in_flight: 1, replayed: 1 });
  });

  it("stores nothing for a 5xx: the key is released and a retry does the work", async () => {
    let failures = 1;
    const { app, sent, outcomes } = setup({ lookupFails: () => failures-- > 0 });
    const failed = await v2(app, '"k-1"', ["a"]);
    expect(failed.status).toBe(500);
    const retried = await v2(app, '"k-1"', ["a"]);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    expect(sent).toHaveLength(1);
    expect(await outcomes()).toEqual({ released: 1, stored: 1 });
  });

  it("releases a 200 whose records all failed retriably, so the retry writes them", async () => {
    const { app, sent, outcomes } = setup({
      deliver: (n) => (n < 2 ? { result: { ok: false, error: retriable } } : {}),
    });
    const failed = await v2(app, '"k-1"', ["a", "b"]);
    expect(failed.status).toBe(200);
    expect((await json(failed)).offsets.map((o: { error_code: number }) => o.error_code)).toEqual([50003, 50003]);
    const retried = await json(await v2(app, '"k-1"', ["a", "b"]));
    expect(retried.offsets.map((o: { offset: number }) => o.offset)).toEqual([2, 3]);
    expect(sent).toHaveLength(4);
    expect(await outcomes()).toEqual({ released: 1, stored: 1 });
  });

  it("keeps a 200 with one acknowledged record, so a retry cannot write that record twice", async () => {
    const { app, sent } = setup({ deliver: (n) => (n === 1 ? { result: { ok: false, error: retriable } } : {}) });
    const first = await v2(app, '"k-1"', ["a", "b"]);
    const firstBody = await first.text();
    const again = await v2(app, '"k-1"', ["a", "b"]);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(firstBody);
    expect(sent).toHaveLength(2);
  });

  it("keeps a 4xx: the same request would be refused again", async () => {
    const { app, sent } = setup();
    const bad = await v2(app, '"k-1"', ["a"], { path: "/topics/t/partitions/7" });
    expect(bad.status).toBe(404);
    const again = await v2(app, '"k-1"', ["a"], { path: "/topics/t/partitions/7" });
    expect(again.status).toBe(404);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(sent).toHaveLength(0);
  });

  it("refuses a key that is not an sf-string with 400 / 40003, writing nothing", async () => {
    const { app, sent } = setup();
    for (const key of ["unquoted", '"open', '""', '"tab\there"', '"x" trailing', `"${"k".repeat(256)}"`]) {
      const res = await v2(app, key, ["a"]);
      expect(res.status, key).toBe(400);
      expect((await json(res)).error_code).toBe(40003);
    }
    expect(sent).toHaveLength(0);
  });

  it("scopes keys per principal: two users' equal keys are two requests", async () => {
    const { app, sent } = setup({
      before: async (c, next) => {
        setPrincipal(c, { name: c.req.header("x-user") as string, groups: [], method: "basic" });
        await next();
      },
    });
    const as = (user: string) =>
      app.request("/topics/t", {
        method: "POST",
        headers: { "content-type": V2_BINARY, "idempotency-key": '"shared"', "x-user": user },
        body: JSON.stringify({ records: [{ value: b64("a") }] }),
      });
    expect((await as("alice")).headers.get("idempotent-replayed")).toBeNull();
    expect((await as("bob")).headers.get("idempotent-replayed")).toBeNull();
    expect((await as("alice")).headers.get("idempotent-replayed")).toBe("true");
    expect(sent).toHaveLength(2);
  });

  it("answers keyed requests 503 while the store is unreachable; unkeyed ones are served", async () => {
    const broken: IdempotencyStore = {
      claim: async () => {
        throw new StoreUnavailableError("connection refused");
      },
      renew: async () => false,
      complete: async () => false,
      release: async () => {},
      close: async () => {},
    };
    const { app, sent, outcomes } = setup({ store: broken });
    const keyed = await v2(app, '"k-1"', ["a"]);
    expect(keyed.status).toBe(503);
    expect(keyed.headers.get("retry-after")).toBe("1");
    expect((await json(keyed)).error_code).toBe(503);
    expect((await v2(app, null, ["a"])).status).toBe(200);
    expect(sent).toHaveLength(1);
    expect(await outcomes()).toEqual({ unavailable: 1 });
  });

  it("still answers a request whose answer cannot be stored after its records were written", async () => {
    const memory = createMemoryStore({ maxBytes: 1024 * 1024 });
    const failing: IdempotencyStore = {
      ...memory,
      complete: async () => {
        throw new StoreUnavailableError("connection lost");
      },
    };
    const { app, sent, outcomes } = setup({ store: failing });
    const res = await v2(app, '"k-1"', ["a"]);
    expect(res.status).toBe(200);
    expect((await json(res)).offsets[0].offset).toBe(0);
    expect(sent).toHaveLength(1);
    expect(await outcomes()).toEqual({ unstored: 1 });
  });

  it("replays a v3 streaming request's reports together, and a records:batch answer", async () => {
    const { app, sent } = setup();
    const stream = () =>
      app.request("/v3/clusters/c1/topics/t/records", {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": '"s-1"' },
        body: `${JSON.stringify({ value: { type: "STRING", data: "x" } })}${JSON.stringify({ value: { type: "STRING", data: "y" } })}`,
      });
    const first = await (await stream()).text();
    expect(first.split("\r\n").filter((l) => l !== "")).toHaveLength(2);
    const again = await stream();
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(first);

    const batch = () =>
      app.request("/v3/clusters/c1/topics/t/records:batch", {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": '"b-1"' },
        body: JSON.stringify({ entries: [{ id: "1", value: { type: "STRING", data: "z" } }] }),
      });
    const firstBatch = await batch();
    expect(firstBatch.status).toBe(207);
    const firstBatchBody = await firstBatch.text();
    const batchAgain = await batch();
    expect(batchAgain.status).toBe(207);
    expect(await batchAgain.text()).toBe(firstBatchBody);
    expect(sent.map((r) => r.value?.toString())).toEqual(["x", "y", "z"]);
  });

  it("takes over a key whose holder died mid-request once its lease lapsed", async () => {
    const store = createMemoryStore({ maxBytes: 1024 * 1024 });
    const { app, sent, recoveries } = setup({ store, waitMs: 2000 });
    const body = JSON.stringify({ records: [{ value: b64("a") }] });
    // A node claimed the key with this exact request and then vanished without renewing it.
    const print = fingerprint({ method: "POST", target: "/topics/t", contentType: V2_BINARY, body: Buffer.from(body) });
    expect((await store.claim(scopedKey(null, "k-1"), print, 100, 60_000)).kind).toBe("claimed");
    const res = await v2(app, '"k-1"', ["a"]);
    expect(res.status).toBe(200);
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    expect(sent).toHaveLength(1);
    expect(await recoveries()).toEqual({ none: 1 });
  });

  it("labels each keyed record with its claim and index; unkeyed records carry no header", async () => {
    const { app, sent } = setup();
    await v2(app, null, ["plain"]);
    await v2(app, '"k-1"', ["a", "b"]);
    expect(sent[0]?.headers).toBeUndefined();
    const claims = sent.slice(1).map(claimOf);
    expect(claims.map((c) => c?.index)).toEqual([0, 1]);
    expect(claims[0]?.claim).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims[1]?.claim).toBe(claims[0]?.claim);
  });
});

describe("Idempotency-Key: a holder paused past its lease", () => {
  /** A send held at the seam until `release`, and told when it got there. */
  function seam() {
    let release = () => {};
    let reached = () => {};
    const at = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    return {
      hold: () => {
        reached();
        return gate;
      },
      at,
      release: () => release(),
    };
  }

  it("writes nothing once it cannot show its claim is renewed, and the retry writes once", async () => {
    let clock = 0;
    const store = createMemoryStore({ maxBytes: 1024 * 1024 });
    const held = seam();
    const paused = setup({ store, leaseMs: 60_000, now: () => clock, holdWrite: held.hold });
    const first = v2(paused.app, '"k-1"', ["a", "b"]);
    await held.at;
    // The node "slept" past its lease: its renewal timer never ran meanwhile.
    clock += 60_000;
    held.release();
    const res = await first;
    expect(res.status).toBe(503);
    expect(await json(res)).toMatchObject({ error_code: 50003 });
    expect(paused.sent).toEqual([]);
    expect(await paused.fenced()).toBe(1);
    expect(await paused.outcomes()).toEqual({ released: 1 });
    // Released: a retry does the work, once.
    const retry = await v2(paused.app, '"k-1"', ["a", "b"]);
    expect(retry.status).toBe(200);
    expect(paused.sent.map((r) => r.value?.toString())).toEqual(["a", "b"]);
  });

  it("writes while the lease holds, short of the margin", async () => {
    let clock = 0;
    const held = seam();
    const app = setup({ leaseMs: 10_000, now: () => clock, holdWrite: held.hold });
    const res = v2(app.app, '"k-1"', ["a"]);
    await held.at;
    clock += 8_999;
    held.release();
    expect((await res).status).toBe(200);
    expect(app.sent).toHaveLength(1);
    expect(await app.fenced()).toBe(0);
  });

  it("v3 streaming: each record after the lease is refused in-band with 50003, none written", async () => {
    let clock = 0;
    const held = seam();
    const app = setup({ leaseMs: 10_000, now: () => clock, holdWrite: held.hold });
    const res = app.app.request("/v3/clusters/c1/topics/t/records", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": '"k-3"' },
      body: '{"value":{"type":"STRING","data":"x"}}\n{"value":{"type":"STRING","data":"y"}}',
    });
    await held.at;
    clock += 20_000;
    held.release();
    const answer = await res;
    const reports = (await answer.text())
      .split("\r\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l));
    expect(reports.map((r) => r.error_code)).toEqual([50003, 50003]);
    expect(app.sent).toEqual([]);
  });

  it("keeps the claim from others for the settle time beyond the lease", async () => {
    let t = 1_000_000;
    const store = createMemoryStore({ maxBytes: 1024 * 1024, now: () => t });
    const held = seam();
    const app = setup({ store, leaseMs: 10_000, settleMs: 33_000, holdWrite: held.hold });
    const first = v2(app.app, '"k-1"', ["a"]);
    await held.at;
    const print = fingerprint({
      method: "POST",
      target: "/topics/t",
      contentType: V2_BINARY,
      body: Buffer.from(JSON.stringify({ records: [{ value: b64("a") }] })),
    });
    t += 40_000; // past the lease, within the settle time
    expect((await store.claim(scopedKey(null, "k-1"), print, 1000, 60_000)).kind).toBe("in-flight");
    t += 4_000; // past both
    expect((await store.claim(scopedKey(null, "k-1"), print, 1000, 60_000)).kind).toBe("claimed");
    held.release();
    await first;
  });
});

describe("Idempotency-Key recovery of a claim whose node died", () => {
  const V3_STREAM = "/v3/clusters/c1/topics/t/records";
  const V3_BATCH = "/v3/clusters/c1/topics/t/records:batch";

  /** A store whose clock moves on demand, and a claim of `request` whose holder then died. */
  async function orphan(request: { path: string; type: string; body: string }, key: string) {
    let t = 1_000_000;
    const store = createMemoryStore({ maxBytes: 1024 * 1024, now: () => t });
    const print = fingerprint({
      method: "POST",
      target: request.path,
      contentType: request.type,
      body: Buffer.from(request.body),
    });
    const dead = await store.claim(scopedKey(null, key), print, 10_000, 60_000);
    if (dead.kind !== "claimed") throw new Error("not claimed");
    t += 10_001;
    return { store, claim: dead.token };
  }
  const post = (app: Hono, key: string, request: { path: string; type: string; body: string }) =>
    app.request(request.path, {
      method: "POST",
      headers: { "content-type": request.type, "idempotency-key": `"${key}"` },
      body: request.body,
    });
  const record = (value: string, claim: string, index: number): OutgoingRecord => ({
    topic: "t",
    partition: null,
    key: null,
    value: Buffer.from(value),
    headers: [{ name: CLAIM_HEADER, value: Buffer.from(`${claim}/${index}`) }],
  });

  it("v2: writes only the records the dead node did not, answering each with its real offset", async () => {
    const request = {
      path: "/topics/t",
      type: V2_BINARY,
      body: JSON.stringify({ records: ["a", "b", "c"].map((v) => ({ value: b64(v) })) }),
    };
    const { store, claim } = await orphan(request, "k-1");
    const { app, sent, plant, lookups, outcomes, recoveries } = setup({ store });
    plant(record("a", claim, 0));
    plant(record("c", claim, 2));
    const res = await post(app, "k-1", request);
    expect(res.status).toBe(200);
    expect((await json(res)).offsets).toEqual([
      { partition: 0, offset: 0, error_code: null, error: null },
      { partition: 0, offset: 2, error_code: null, error: null },
      { partition: 0, offset: 1, error_code: null, error: null },
    ]);
    expect(lookups).toEqual([[{ id: claim, claimedAt: 1_000_000 }]]);
    expect(sent.map((r) => r.value?.toString())).toEqual(["b"]);
    expect(claimOf(sent[0] as OutgoingRecord)?.index).toBe(1);
    expect(claimOf(sent[0] as OutgoingRecord)?.claim).not.toBe(claim);
    // The answer is stored like any first answer: the next retry replays it.
    const again = await post(app, "k-1", request);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(sent).toHaveLength(1);
    expect(await outcomes()).toEqual({ stored: 1, replayed: 1 });
    expect(await recoveries()).toEqual({ found: 1 });
  });

  it("v3 streaming and records:batch: the found records' reports, the others written", async () => {
    const streaming = {
      path: V3_STREAM,
      type: "application/json",
      body: ["x", "y"].map((data) => JSON.stringify({ value: { type: "STRING", data } })).join(""),
    };
    const first = await orphan(streaming, "s-1");
    const { app, sent, plant } = setup({ store: first.store });
    plant(record("x", first.claim, 0));
    const reports = (await (await post(app, "s-1", streaming)).text()).split("\r\n").filter((l) => l !== "");
    expect(reports.map((l) => JSON.parse(l))).toMatchObject([
      { error_code: 200, partition_id: 0, offset: 0, timestamp: "1970-01-01T00:00:02Z", value: { size: 1 } },
      { error_code: 200, partition_id: 0, offset: 1 },
    ]);
    expect(sent.map((r) => [r.value?.toString(), claimOf(r)?.index])).toEqual([["y", 1]]);

    const batch = {
      path: V3_BATCH,
      type: "application/json",
      body: JSON.stringify({
        entries: ["p", "q"].map((data, i) => ({ id: `e${i}`, value: { type: "STRING", data } })),
      }),
    };
    const second = await orphan(batch, "b-1");
    const other = setup({ store: second.store });
    other.plant(record("q", second.claim, 1));
    const res = await post(other.app, "b-1", batch);
    expect(res.status).toBe(207);
    expect((await json(res)).successes).toMatchObject([
      { id: "e0", offset: 1 },
      { id: "e1", offset: 0 },
    ]);
    expect(other.sent.map((r) => [r.value?.toString(), claimOf(r)?.index])).toEqual([["p", 0]]);
  });

  it("answers 503 when the records cannot be looked up, and the next retry looks for both claims", async () => {
    const request = { path: "/topics/t", type: V2_BINARY, body: JSON.stringify({ records: [{ value: b64("a") }] }) };
    const { store, claim } = await orphan(request, "k-1");
    let failures = 1;
    const { app, sent, plant, lookups, recoveries } = setup({ store, recoveryFails: () => failures-- > 0 });
    plant(record("a", claim, 0));
    const refused = await post(app, "k-1", request);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await json(refused)).error_code).toBe(50003);
    expect(sent).toHaveLength(0);
    const retried = await post(app, "k-1", request);
    expect(retried.status).toBe(200);
    expect((await json(retried)).offsets[0].offset).toBe(0);
    expect(sent).toHaveLength(0);
    expect(lookups.map((prior) => prior.length)).toEqual([1, 2]);
    expect(lookups[1]?.[0]?.id).toBe(claim);
    expect(await recoveries()).toEqual({ refused: 1, found: 1 });
  });
});

describe("Idempotency-Key: a record librdkafka reported delivered without an offset", () => {
  /** What producer-pool.ts reports for librdkafka's offset-less success. */
  const offsetless: DeliveryResult = { ok: false, error: unconfirmedDelivery(), unconfirmed: { partition: 0 } };
  const V3_STREAM = "/v3/clusters/c1/topics/t/records";
  const V3_BATCH = "/v3/clusters/c1/topics/t/records:batch";
  const v3 = (app: Hono, path: string, key: string | null, body: string) =>
    app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key === null ? {} : { "idempotency-key": key }) },
      body,
    });
  const streamBody = (values: string[]) =>
    values.map((data) => JSON.stringify({ value: { type: "STRING", data } })).join("");
  const batchBody = (values: string[]) =>
    JSON.stringify({ entries: values.map((data, i) => ({ id: `e${i}`, value: { type: "STRING", data } })) });

  it("v2: found in its partition, it is answered with its real offset and the answer stored", async () => {
    const before = Date.now();
    const { app, sent, confirms, outcomes, unconfirmed } = setup({
      deliver: (n) => (n === 1 ? { result: offsetless } : {}),
    });
    const res = await v2(app, '"k-1"', ["a", "b"]);
    expect(res.status).toBe(200);
    expect((await json(res)).offsets).toEqual([
      { partition: 0, offset: 0, error_code: null, error: null },
      { partition: 0, offset: 1, error_code: null, error: null },
    ]);
    const claim = claimOf(sent[0] as OutgoingRecord)?.claim;
    expect(confirms).toHaveLength(1);
    expect(confirms[0]).toMatchObject({ claim, wanted: [{ index: 1, partition: 0 }] });
    expect(confirms[0]?.since).toBeGreaterThanOrEqual(before);
    expect((await v2(app, '"k-1"', ["a", "b"])).headers.get("idempotent-replayed")).toBe("true");
    expect(sent).toHaveLength(2);
    expect(await outcomes()).toEqual({ stored: 1, replayed: 1 });
    expect(await unconfirmed()).toEqual({ found: 1 });
  });

  it("v2: not found (Kafka refused it), it stays 50003, and the retry writes it once", async () => {
    let lose = true;
    const { app, sent, outcomes, unconfirmed } = setup({
      deliver: () => (lose ? { result: offsetless, lost: true } : {}),
    });
    const res = await v2(app, '"k-1"', ["a"]);
    expect(res.status).toBe(200);
    expect((await json(res)).offsets).toMatchObject([{ error_code: 50003 }]);
    lose = false;
    const retried = await v2(app, '"k-1"', ["a"]);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    expect((await json(retried)).offsets).toEqual([{ partition: 0, offset: 1, error_code: null, error: null }]);
    expect(sent).toHaveLength(2);
    expect(await outcomes()).toEqual({ released: 1, stored: 1 });
    expect(await unconfirmed()).toEqual({ none: 1 });
  });

  it("v3 streaming and records:batch: found becomes a success, not found a 50003 failure", async () => {
    const stream = setup({
      deliver: (n) => (n === 0 ? { result: offsetless } : { result: offsetless, lost: true }),
    });
    const reports = (await (await v3(stream.app, V3_STREAM, '"s-1"', streamBody(["x", "y"]))).text())
      .split("\r\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l));
    expect(reports).toMatchObject([
      { error_code: 200, partition_id: 0, offset: 0, timestamp: "1970-01-01T00:00:03Z" },
      { error_code: 50003 },
    ]);
    expect(stream.confirms.map((c) => c.wanted)).toEqual([[{ index: 0, partition: 0 }], [{ index: 1, partition: 0 }]]);

    const batch = setup({
      deliver: (n) => (n === 0 ? { result: offsetless, lost: true } : { result: offsetless }),
    });
    const res = await v3(batch.app, V3_BATCH, '"b-1"', batchBody(["p", "q"]));
    expect(res.status).toBe(207);
    const body = await json(res);
    expect(body.successes).toMatchObject([{ id: "e1", partition_id: 0, offset: 1 }]);
    expect(body.failures).toMatchObject([{ id: "e0", error_code: 50003 }]);
    // records:batch sends its entries one by one (produce-v3.ts): one look each.
    expect(batch.confirms.map((c) => c.wanted)).toEqual([[{ index: 0, partition: 0 }], [{ index: 1, partition: 0 }]]);
    expect(await batch.unconfirmed()).toEqual({ found: 1, none: 1 });
  });

  it("the look starts before a timestamp the request set itself", async () => {
    const { app, confirms } = setup({ deliver: () => ({ result: offsetless }) });
    const body = JSON.stringify({ value: { type: "STRING", data: "old" }, timestamp: "2020-01-01T00:00:00Z" });
    await (await v3(app, V3_STREAM, '"t-1"', body)).text();
    expect(confirms.map((c) => c.since)).toEqual([Date.parse("2020-01-01T00:00:00Z")]);
  });

  it("a look that fails leaves the 50003 (the retry writes the record again)", async () => {
    const { app, unconfirmed } = setup({ deliver: () => ({ result: offsetless }), confirmFails: () => true });
    const res = await v2(app, '"k-1"', ["a"]);
    expect((await json(res)).offsets).toMatchObject([{ error_code: 50003 }]);
    expect(await unconfirmed()).toEqual({ refused: 1 });
  });

  it("unkeyed requests are answered 50003 without a look: no header to look for", async () => {
    const { app, confirms } = setup({ deliver: () => ({ result: offsetless }) });
    expect((await json(await v2(app, null, ["a"]))).offsets).toMatchObject([{ error_code: 50003 }]);
    const stream = await (await v3(app, V3_STREAM, null, streamBody(["x"]))).text();
    expect(JSON.parse(stream.split("\r\n")[0] as string)).toMatchObject({ error_code: 50003 });
    expect(confirms).toHaveLength(0);
  });
});
