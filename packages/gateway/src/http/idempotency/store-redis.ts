/**
 * Idempotency keys for a cluster, in Redis: one string per key, so every operation touches one
 * key (Redis Cluster safe, no hash tags needed).
 *   wharf:idem:<scoped key>  "P|<token>|<fingerprint>" while in flight (lease PX, renewed)
 *                            "D|<json answer>" once answered (PX idempotency.ttl.ms)
 * Claim, renew, complete and release read-then-write, so each is one Lua script: two nodes can
 * never both claim a key, and a node whose lease lapsed cannot overwrite the next holder.
 */
import { randomUUID } from "node:crypto";
import { createRedisClient, patientRunner, type RedisClient } from "../../cluster/redis-client.ts";
import type { RedisConnection } from "../../cluster/redis-settings.ts";
import type { Logger } from "../../log.ts";
import {
  type ClaimResult,
  decodeDone,
  encodeDone,
  type IdempotencyStore,
  type StoredAnswer,
  StoreUnavailableError,
} from "./store.ts";

const PREFIX = "wharf:idem:";

// KEYS: key. ARGV: pending value, lease ms. Returns the value held, or false after claiming it.
const claimScript = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

// KEYS: key. ARGV: pending value, lease ms
const renewScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

// KEYS: key. ARGV: pending value, done value, ttl ms. Repeating a completion that went through is a success.
const completeScript = `
local held = redis.call('GET', KEYS[1])
if held == ARGV[2] then return 1 end
if held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

// KEYS: key. ARGV: pending value
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface IdempotencyCommands {
  wharfIdemClaim(key: string, pending: string, leaseMs: number): Promise<string | null>;
  wharfIdemRenew(key: string, pending: string, leaseMs: number): Promise<number>;
  wharfIdemComplete(key: string, pending: string, done: string, ttlMs: number): Promise<number>;
  wharfIdemRelease(key: string, pending: string): Promise<number>;
}

/** One try of a command on a connected client; a slower one is tried again (see patientRunner). */
const COMMAND_TIMEOUT_MS = 1000;

function createClient(connection: RedisConnection, log: Logger): RedisClient & IdempotencyCommands {
  // The factory keeps no offline queue: queueing commands while Redis is away would hold
  // requests for as long as it is away.
  const redis = createRedisClient(connection, {
    maxRetriesPerRequest: 1,
    connectTimeoutMs: 2000,
    reconnectDelayMs: 500,
  }) as RedisClient & IdempotencyCommands;
  redis.defineCommand("wharfIdemClaim", { numberOfKeys: 1, lua: claimScript });
  redis.defineCommand("wharfIdemRenew", { numberOfKeys: 1, lua: renewScript });
  redis.defineCommand("wharfIdemComplete", { numberOfKeys: 1, lua: completeScript });
  redis.defineCommand("wharfIdemRelease", { numberOfKeys: 1, lua: releaseScript });
  let reported = false;
  redis.on("error", (error: Error) => {
    if (!reported) log.warn("idempotency store cannot reach Redis", { error: error.message });
    reported = true;
  });
  redis.on("ready", () => {
    reported = false;
  });
  return redis;
}

/**
 * `waitMs` (redis.wait.ms): how long a keyed request waits for Redis to be reachable, over all its
 * commands' tries, before it is refused with a retriable 503.
 */
export function createRedisStore(connection: RedisConnection, log: Logger, waitMs: number): IdempotencyStore {
  const redis = createClient(connection, log);
  const patient = patientRunner(redis, waitMs, COMMAND_TIMEOUT_MS);

  /**
   * Without an offline queue a command sent while the client (re)connects fails at once. A keyed
   * request waits for the connection instead, and a command that failed under it (the primary
   * died or was demoted; Sentinel names the next one) is sent again once the client is back: so a
   * node's first requests, a Redis restart and a failover are served rather than refused. Every
   * script is safe to repeat: each compares against the caller's own token (see claim).
   */
  const run = async <T>(command: () => Promise<T>): Promise<T> => {
    try {
      return await patient(command);
    } catch (error) {
      throw new StoreUnavailableError((error as Error).message);
    }
  };

  // The token handed to the claimer is the exact value it wrote: every later script compares
  // against it, and the node keeps no state per key.
  return {
    async claim(key, fingerprint, leaseMs): Promise<ClaimResult> {
      const token = `P|${randomUUID()}|${fingerprint}`;
      const held = await run(() => redis.wharfIdemClaim(PREFIX + key, token, leaseMs));
      // Its own token: a first try ran before its connection dropped, and this is the repeat.
      if (held === null || held === token) return { kind: "claimed", token };
      if (held.startsWith("P|")) return { kind: "in-flight", fingerprint: held.slice(held.indexOf("|", 2) + 1) };
      const done = decodeDone(held.slice(2));
      return { kind: "done", fingerprint: done.fingerprint, answer: done.answer };
    },
    async renew(key, token, leaseMs) {
      return (await run(() => redis.wharfIdemRenew(PREFIX + key, token, leaseMs))) === 1;
    },
    async complete(key, token, fingerprint, answer: StoredAnswer, ttlMs) {
      const done = `D|${encodeDone(fingerprint, answer)}`;
      return (await run(() => redis.wharfIdemComplete(PREFIX + key, token, done, ttlMs))) === 1;
    },
    async release(key, token) {
      await run(() => redis.wharfIdemRelease(PREFIX + key, token));
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
