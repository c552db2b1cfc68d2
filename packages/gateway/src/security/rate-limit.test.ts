import { describe, expect, it } from "vitest";
import { type BucketStore, createMemoryBuckets, createRateLimiter, type RateLimitSettings } from "./rate-limit.ts";

const settings = (over: Partial<RateLimitSettings> = {}): RateLimitSettings => ({
  principalRequestsPerSecond: null,
  principalBytesPerSecond: null,
  globalRequestsPerSecond: null,
  globalBytesPerSecond: null,
  onRedisFailure: "local",
  ...over,
});

describe("rate limits", () => {
  it("lets a second's burst through, then refuses with Retry-After and X-RateLimit-*", async () => {
    let now = 1_000_000;
    const limiter = createRateLimiter(
      settings({ principalRequestsPerSecond: 5 }),
      null,
      createMemoryBuckets(() => now),
    );
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await limiter.admit("alice", 0));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false]);
    expect(results[0]?.headers).toMatchObject({ "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4" });
    expect(results[5]?.headers).toMatchObject({ "Retry-After": "1", "X-RateLimit-Remaining": "0" });
    expect((await limiter.admit("bob", 0)).allowed).toBe(true);
    now += 200; // one request's worth drains
    expect((await limiter.admit("alice", 0)).allowed).toBe(true);
    expect((await limiter.admit("alice", 0)).allowed).toBe(false);
  });

  it("counts bytes, lets one oversized request through an empty bucket, then makes it wait", async () => {
    let now = 0;
    const limiter = createRateLimiter(
      settings({ globalBytesPerSecond: 1000 }),
      null,
      createMemoryBuckets(() => now),
    );
    expect((await limiter.admit("a", 3000)).allowed).toBe(true);
    const refused = await limiter.admit("b", 10);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(3);
    now += 3000;
    expect((await limiter.admit("b", 10)).allowed).toBe(true);
    limiter.charge("b", 5000); // response bytes, after the fact: debt
    await new Promise((r) => setImmediate(r));
    expect((await limiter.admit("c", 10)).allowed).toBe(false);
  });

  it("falls back as configured when Redis fails", async () => {
    const broken: BucketStore = {
      take: () => Promise.reject(new Error("connection refused")),
      ready: async () => {},
      close: async () => {},
    };
    const admit = (onRedisFailure: RateLimitSettings["onRedisFailure"]) =>
      createRateLimiter(settings({ principalRequestsPerSecond: 1, onRedisFailure }), broken).admit("alice", 0);
    expect(await admit("open")).toMatchObject({ allowed: true });
    expect(await admit("closed")).toMatchObject({ allowed: false, unavailable: true });
    const local = createRateLimiter(settings({ principalRequestsPerSecond: 1 }), broken);
    // This node's own bucket: a second's budget (one request), then refused.
    expect((await local.admit("alice", 0)).allowed).toBe(true);
    expect((await local.admit("alice", 0)).allowed).toBe(false);
  });
});
