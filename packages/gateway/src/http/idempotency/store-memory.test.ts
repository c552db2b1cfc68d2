import { describe, expect, it } from "vitest";
import { storeContract } from "./store-contract.ts";
import { createMemoryStore } from "./store-memory.ts";

const TTL = 60_000;

const answer = (size: number) => ({ status: 200, contentType: "application/json", body: new Uint8Array(size) });

function clock() {
  let t = 1_000_000;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe("memory idempotency store", () => {
  storeContract(
    () => {
      const { now, advance } = clock();
      return { store: createMemoryStore({ maxBytes: 1 << 20, now }), now, lapse: async () => advance(10) };
    },
    (name) => name,
  );

  it("claims once, tells the fingerprint of what holds the key, and replays the answer", async () => {
    const store = createMemoryStore({ maxBytes: 1 << 20 });
    const claim = await store.claim("k", "fp", 1000, TTL);
    if (claim.kind !== "claimed") throw new Error("not claimed");
    expect(await store.claim("k", "other", 1000, TTL)).toEqual({ kind: "in-flight", fingerprint: "fp" });
    expect(await store.complete("k", "not-the-token", "fp", answer(1), 5000)).toBe(false);
    expect(await store.complete("k", claim.token, "fp", answer(3), 5000)).toBe(true);
    expect(await store.claim("k", "fp", 1000, TTL)).toMatchObject({
      kind: "done",
      fingerprint: "fp",
      answer: answer(3),
    });
  });

  it("lets a lease lapse unless renewed, and a lapsed holder can no longer complete", async () => {
    const { now, advance } = clock();
    const store = createMemoryStore({ maxBytes: 1 << 20, now });
    const first = await store.claim("k", "fp", 1000, TTL);
    if (first.kind !== "claimed") throw new Error("not claimed");
    advance(900);
    expect(await store.renew("k", first.token, 1000)).toBe(true);
    advance(900);
    expect((await store.claim("k", "fp", 1000, TTL)).kind).toBe("in-flight");
    advance(200);
    const second = await store.claim("k", "fp", 1000, TTL);
    expect(second.kind).toBe("claimed");
    expect(await store.renew("k", first.token, 1000)).toBe(false);
    expect(await store.complete("k", first.token, "fp", answer(1), 5000)).toBe(false);
  });

  it("forgets answers after their TTL and when released", async () => {
    const { now, advance } = clock();
    const store = createMemoryStore({ maxBytes: 1 << 20, now });
    const a = await store.claim("a", "fp", 1000, TTL);
    if (a.kind !== "claimed") throw new Error("not claimed");
    await store.complete("a", a.token, "fp", answer(10), 5000);
    const b = await store.claim("b", "fp", 1000, TTL);
    if (b.kind !== "claimed") throw new Error("not claimed");
    await store.release("b", b.token);
    expect((await store.claim("b", "fp", 1000, TTL)).kind).toBe("claimed");
    advance(5001);
    expect((await store.claim("a", "fp", 1000, TTL)).kind).toBe("claimed");
  });

  it("evicts the oldest answers past its byte bound, never a key in flight", async () => {
    const store = createMemoryStore({ maxBytes: 3000 });
    const pending = await store.claim("pending", "fp", 60_000, TTL);
    expect(pending.kind).toBe("claimed");
    for (const key of ["a", "b", "c", "d"]) {
      const claim = await store.claim(key, "fp", 1000, TTL);
      if (claim.kind !== "claimed") throw new Error("not claimed");
      await store.complete(key, claim.token, "fp", answer(1000), 60_000);
    }
    expect(store.bytes).toBeLessThanOrEqual(3000);
    expect((await store.claim("pending", "fp", 1000, TTL)).kind).toBe("in-flight");
    expect((await store.claim("d", "fp", 1000, TTL)).kind).toBe("done");
    expect((await store.claim("a", "fp", 1000, TTL)).kind).toBe("claimed");
  });
});
