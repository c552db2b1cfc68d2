/**
 * Cluster-wide rate limits, per principal and global, in requests/s and bytes/s.
 *
 * Each limit is a GCRA bucket (a token bucket kept as one timestamp, the "theoretical arrival
 * time"), with one second of burst. In a cluster the buckets live in Redis and one Lua script
 * checks and charges all of a request's buckets atomically, on Redis's clock; a lone node keeps
 * them in memory. Bytes are charged twice: the declared Content-Length before the request runs,
 * and what actually crossed the wire (chunked bodies, responses) once it is over, as debt that
 * later requests wait out.
 */
import { createRedisClient, type RedisClient } from "../cluster/redis-client.ts";
import type { RedisConnection } from "../cluster/redis-settings.ts";
import { withDeadline } from "../deadline.ts";
import type { Logger } from "../log.ts";

export interface RateLimitSettings {
  principalRequestsPerSecond: number | null;
  principalBytesPerSecond: number | null;
  globalRequestsPerSecond: number | null;
  globalBytesPerSecond: number | null;
  /** Redis unreachable: `local` falls back to this node's own buckets, `open` lets everything through, `closed` answers 503. */
  onRedisFailure: "local" | "open" | "closed";
}

export interface Bucket {
  key: string;
  perSecond: number;
  cost: number;
}

export interface TakeResult {
  allowed: boolean;
  /** How long until every bucket would have let this request through. */
  retryAfterMs: number;
  /** Per bucket, how far ahead of now its arrival time is once charged (ms of backlog). */
  backlogMs: number[];
}

export interface BucketStore {
  /** Charges every bucket, or none if any is over its limit; `force` charges regardless (debt). */
  take(buckets: Bucket[], force: boolean): Promise<TakeResult>;
  /** Resolves once the store can answer, or after `timeoutMs` (then the fallback applies). */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** One second of burst: a client may spend a second's budget at once. */
const BURST_MS = 1000;

function decide(tats: number[], buckets: Bucket[], now: number, force: boolean) {
  let wait = 0;
  const next = buckets.map((b, i) => {
    const tat = Math.max(tats[i] ?? 0, now);
    const increment = (b.cost * 1000) / b.perSecond;
    // A request bigger than the whole burst goes through once the bucket is empty, then is debt.
    const allowance = BURST_MS - Math.min(increment, BURST_MS);
    if (tat - now > allowance) wait = Math.max(wait, tat - now - allowance);
    return tat + increment;
  });
  const allowed = force || wait === 0;
  return { allowed, retryAfterMs: allowed ? 0 : wait, next, backlogMs: next.map((t) => t - now) };
}

export function createMemoryBuckets(clock: () => number = Date.now): BucketStore {
  const tats = new Map<string, number>();
  return {
    async take(buckets, force) {
      const now = clock();
      if (tats.size > 100_000) for (const [k, t] of tats) if (t < now) tats.delete(k);
      const result = decide(
        buckets.map((b) => tats.get(b.key) ?? 0),
        buckets,
        now,
        force,
      );
      if (result.allowed) for (const [i, b] of buckets.entries()) tats.set(b.key, result.next[i] as number);
      return { allowed: result.allowed, retryAfterMs: result.retryAfterMs, backlogMs: result.backlogMs };
    },
    async ready() {},
    async close() {},
  };
}

// KEYS: buckets. ARGV: force, then per bucket: perSecond, cost. Same arithmetic as decide().
const takeScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local force = ARGV[1] == '1'
local wait = 0
local next = {}
for i = 1, #KEYS do
  local increment = tonumber(ARGV[2 * i + 1]) * 1000 / tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local allowance = ${BURST_MS} - math.min(increment, ${BURST_MS})
  if tat - now > allowance then wait = math.max(wait, tat - now - allowance) end
  next[i] = tat + increment
end
local allowed = force or wait == 0
local out = { allowed and 1 or 0, string.format('%.3f', allowed and 0 or wait) }
for i = 1, #KEYS do
  if allowed then
    redis.call('SET', KEYS[i], string.format('%.3f', next[i]), 'PX', math.ceil(next[i] - now) + ${BURST_MS})
  end
  out[#out + 1] = string.format('%.3f', next[i] - now)
end
return out`;

interface RateCommands {
  wharfTake(...args: (string | number)[]): Promise<string[]>;
}

/** A rate check must never hold a request up: fail within a quarter second and fall back. */
const RATE_CHECK_TIMEOUT_MS = 250;

export function createRedisBuckets(connection: RedisConnection, log: Logger): BucketStore {
  const redis = createRedisClient(connection, {
    maxRetriesPerRequest: 0,
    connectTimeoutMs: 2000,
    reconnectDelayMs: 500,
  }) as RedisClient & RateCommands;
  redis.defineCommand("wharfTake", { lua: takeScript });
  let reported = false;
  redis.on("error", (error: Error) => {
    if (!reported) log.warn("rate limiter cannot reach Redis", { error: error.message });
    reported = true;
  });
  redis.on("ready", () => {
    reported = false;
  });
  return {
    async take(buckets, force) {
      const args = buckets.flatMap((b) => [b.perSecond, b.cost]);
      // A bare commandTimeout would misfire after an event-loop stall (see deadline.ts).
      const out = await withDeadline(
        redis.wharfTake(buckets.length, ...buckets.map((b) => b.key), force ? "1" : "0", ...args),
        RATE_CHECK_TIMEOUT_MS,
        "Rate limit check",
      );
      return {
        allowed: Number(out[0]) === 1,
        retryAfterMs: Number(out[1]),
        backlogMs: out.slice(2).map(Number),
      };
    },
    async ready(timeoutMs) {
      if (redis.status === "ready") return;
      let timer: NodeJS.Timeout | undefined;
      let onReady = () => {};
      await new Promise<void>((resolve) => {
        onReady = resolve;
        redis.once("ready", onReady);
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      redis.off("ready", onReady);
    },
    async close() {
      redis.disconnect();
    },
  };
}

export interface Admission {
  allowed: boolean;
  /** Set when refused, or when Redis failed with `closed`. */
  unavailable?: boolean;
  retryAfterSeconds: number;
  headers: Record<string, string>;
}

export interface RateLimiter {
  admit(principalKey: string, declaredBytes: number): Promise<Admission>;
  /** Bytes that crossed the wire beyond what admit() charged. */
  charge(principalKey: string, bytes: number): void;
  /**
   * Waits (at most `timeoutMs`) for the shared store, so a node that starts while Redis is
   * reachable enforces the cluster's limits from its first request rather than its own.
   */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function createRateLimiter(
  settings: RateLimitSettings,
  shared: BucketStore | null,
  local: BucketStore = createMemoryBuckets(),
): RateLimiter {
  // One script charges all of a request's buckets, so in a Redis Cluster they must share a slot
  // (the braces are its hash tag). With a global limit every request touches the global bucket
  // anyway, so all buckets go to its slot; with per-principal limits only, each principal's own
  // buckets share one slot and principals spread over the cluster.
  const hasGlobal = settings.globalRequestsPerSecond !== null || settings.globalBytesPerSecond !== null;
  const key = (principal: string, what: string) => {
    if (principal === "") return `wharf:rl:{g}:${what}`;
    const id = Buffer.from(principal).toString("base64url");
    return hasGlobal ? `wharf:rl:{g}:p:${id}:${what}` : `wharf:rl:{p:${id}}:${what}`;
  };
  const requestBuckets = (principal: string): Bucket[] => [
    ...(settings.principalRequestsPerSecond
      ? [{ key: key(principal, "req"), perSecond: settings.principalRequestsPerSecond, cost: 1 }]
      : []),
    ...(settings.globalRequestsPerSecond
      ? [{ key: key("", "req"), perSecond: settings.globalRequestsPerSecond, cost: 1 }]
      : []),
  ];
  const byteBuckets = (principal: string, bytes: number): Bucket[] =>
    bytes <= 0
      ? []
      : [
          ...(settings.principalBytesPerSecond
            ? [{ key: key(principal, "bytes"), perSecond: settings.principalBytesPerSecond, cost: bytes }]
            : []),
          ...(settings.globalBytesPerSecond
            ? [{ key: key("", "bytes"), perSecond: settings.globalBytesPerSecond, cost: bytes }]
            : []),
        ];

  const take = async (buckets: Bucket[], force: boolean): Promise<TakeResult | "unavailable"> => {
    if (!shared) return local.take(buckets, force);
    try {
      return await shared.take(buckets, force);
    } catch {
      if (settings.onRedisFailure === "local") return local.take(buckets, force);
      if (settings.onRedisFailure === "open") return { allowed: true, retryAfterMs: 0, backlogMs: [] };
      return "unavailable";
    }
  };

  return {
    async admit(principal, declaredBytes) {
      const requests = requestBuckets(principal);
      const buckets = [...requests, ...byteBuckets(principal, declaredBytes)];
      if (buckets.length === 0) return { allowed: true, retryAfterSeconds: 0, headers: {} };
      const result = await take(buckets, false);
      if (result === "unavailable") return { allowed: false, unavailable: true, retryAfterSeconds: 1, headers: {} };
      const retryAfterSeconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      const headers: Record<string, string> = {};
      const first = requests[0];
      const backlog = result.backlogMs[0];
      if (first && backlog !== undefined) {
        const perMs = first.perSecond / 1000;
        headers["X-RateLimit-Limit"] = String(first.perSecond);
        headers["X-RateLimit-Remaining"] = String(
          result.allowed ? Math.max(0, Math.floor((BURST_MS - backlog) * perMs)) : 0,
        );
        headers["X-RateLimit-Reset"] = String(Math.max(result.allowed ? 0 : 1, Math.ceil(backlog / 1000)));
      }
      if (!result.allowed) headers["Retry-After"] = String(retryAfterSeconds);
      return { allowed: result.allowed, retryAfterSeconds, headers };
    },
    charge(principal, bytes) {
      const buckets = byteBuckets(principal, Math.round(bytes));
      if (buckets.length > 0) void take(buckets, true).catch(() => {});
    },
    async ready(timeoutMs) {
      await shared?.ready(timeoutMs);
    },
    async close() {
      await shared?.close();
      await local.close();
    },
  };
}
