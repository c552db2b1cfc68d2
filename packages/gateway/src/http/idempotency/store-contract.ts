/**
 * What every idempotency store must do with claims, as vitest cases: run by the memory store's
 * unit test and by the Redis store's integration test, so the two cannot drift apart.
 */
import { expect, it } from "vitest";
import type { ClaimResult, IdempotencyStore } from "./store.ts";

export interface StoreUnderTest {
  store: IdempotencyStore;
  /** Lets every lease of LAPSING_MS run out (the memory store's clock moves; Redis's is waited for). */
  lapse(): Promise<void>;
  /** The store's clock, for claim times. */
  now(): number;
}

/** A lease that `lapse` outlasts; HELD_MS is one no test outlasts. */
const LAPSING_MS = 5;
const HELD_MS = 60_000;
const TTL_MS = 60_000;
const answer = { status: 200, contentType: "application/json", body: Buffer.from('{"ok":true}') };

function claimed(result: ClaimResult) {
  if (result.kind !== "claimed") throw new Error(`not claimed: ${result.kind}`);
  return result;
}

export function storeContract(open: () => StoreUnderTest, unique: (name: string) => string): void {
  it("takes over a lapsed claim with the same fingerprint and names the claim it took over", async () => {
    const { store, lapse, now } = open();
    const key = unique("takeover");
    const before = now();
    const first = claimed(await store.claim(key, "fp", LAPSING_MS, TTL_MS));
    expect(first.prior).toEqual([]);
    await lapse();
    // Another request with the key is still refused: the entry outlived the lease.
    expect(await store.claim(key, "other", HELD_MS, TTL_MS)).toEqual({ kind: "in-flight", fingerprint: "fp" });
    const second = claimed(await store.claim(key, "fp", HELD_MS, TTL_MS));
    expect(second.prior).toEqual([{ id: first.token, claimedAt: expect.any(Number) }]);
    const claimedAt = second.prior[0]?.claimedAt as number;
    expect(claimedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(claimedAt).toBeLessThanOrEqual(now() + 1000);
    // The orphan's holder cannot come back: not renew, complete nor release the new claim.
    expect(await store.renew(key, first.token, HELD_MS)).toBe(false);
    expect(await store.complete(key, first.token, "fp", answer, TTL_MS)).toBe(false);
    await store.release(key, first.token);
    expect(await store.claim(key, "fp", HELD_MS, TTL_MS)).toEqual({ kind: "in-flight", fingerprint: "fp" });
    expect(await store.complete(key, second.token, "fp", answer, TTL_MS)).toBe(true);
    expect(await store.claim(key, "fp", HELD_MS, TTL_MS)).toMatchObject({ kind: "done", fingerprint: "fp" });
  });

  it("never takes over a claim whose lease is renewed", async () => {
    const { store, lapse } = open();
    const key = unique("renewed");
    const first = claimed(await store.claim(key, "fp", LAPSING_MS, TTL_MS));
    expect(await store.renew(key, first.token, HELD_MS)).toBe(true);
    await lapse();
    expect(await store.claim(key, "fp", HELD_MS, TTL_MS)).toEqual({ kind: "in-flight", fingerprint: "fp" });
  });

  it("lists every orphaned claim in order when the recovering holder dies too", async () => {
    const { store, lapse } = open();
    const key = unique("chain");
    const a = claimed(await store.claim(key, "fp", LAPSING_MS, TTL_MS));
    await lapse();
    const b = claimed(await store.claim(key, "fp", LAPSING_MS, TTL_MS));
    await lapse();
    const c = claimed(await store.claim(key, "fp", HELD_MS, TTL_MS));
    expect(c.prior.map((p) => p.id)).toEqual([a.token, b.token]);
    expect((c.prior[0]?.claimedAt as number) <= (c.prior[1]?.claimedAt as number)).toBe(true);
  });

  it("keeps a released claim that took over others, so the next request looks for their records too", async () => {
    const { store, lapse } = open();
    const key = unique("release-chain");
    const a = claimed(await store.claim(key, "fp", LAPSING_MS, TTL_MS));
    await lapse();
    const b = claimed(await store.claim(key, "fp", HELD_MS, TTL_MS));
    await store.release(key, b.token);
    const c = claimed(await store.claim(key, "fp", HELD_MS, TTL_MS));
    expect(c.prior.map((p) => p.id)).toEqual([a.token, b.token]);

    // A claim that took over nothing is simply gone once released.
    const fresh = unique("release-fresh");
    const d = claimed(await store.claim(fresh, "fp", HELD_MS, TTL_MS));
    await store.release(fresh, d.token);
    expect(claimed(await store.claim(fresh, "fp", HELD_MS, TTL_MS)).prior).toEqual([]);
  });
}
