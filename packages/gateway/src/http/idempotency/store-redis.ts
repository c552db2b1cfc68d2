/**
 * Idempotency keys for a cluster, in Redis: one string per key, so every operation touches one
 * key (Redis Cluster safe, no hash tags needed).
 *   wharf:idem:<scoped key>  "P|<claim id>|<lease until>|<claimed at>|<prior>|<fingerprint>" while
 *                            in flight (PX idempotency.ttl.ms; the lease is renewed by its holder)
 *                            "D|<json answer>" once answered (PX idempotency.ttl.ms)
 * <prior> lists the claims taken over, `id@claimedAt,...` (store.ts). Times are Redis's clock
 * (TIME), the one clock every node shares; renew and release keep the key's TTL (KEEPTTL, Redis
 * 6.0+). Claim, renew, complete and release read-then-write, so each is one Lua script: two nodes
 * can never both claim a key, and a node whose lease lapsed cannot overwrite the next holder.
 *
 * Replication is asynchronous: a claim written on a primary in its last moment may be missing on
 * the replica a failover promotes, and a retry there would write the records again. With
 * idempotency.redis.min.replicas > 0, or "connected" while the primary has replicas online
 * (replica-count.ts), a claim, a renewal and an answer are each sent in one
 * pipeline with `WAIT <replicas> <ms>`, which answers how many replicas have every write of this
 * connection so far (in a Redis Cluster, of the key's node: the pipeline goes to the key's slot).
 * A claim that is not confirmed is tried again until redis.wait.ms, then refused: nothing is
 * written to Kafka. WAIT blocks the connection it runs on, so while a replica lags every command
 * of this node's keyed requests (repeats polling a claim in flight too) waits behind it.
 */
import { randomUUID } from "node:crypto";
import { createRedisClient, isCluster, patientRunner, type RedisClient } from "../../cluster/redis-client.ts";
import type { RedisConnection } from "../../cluster/redis-settings.ts";
import { withDeadline } from "../../deadline.ts";
import type { Logger } from "../../log.ts";
import { type ReplicaCount, trackConnectedReplicas } from "./replica-count.ts";
import {
  type ClaimResult,
  decodeDone,
  decodePrior,
  encodeDone,
  type IdempotencyStore,
  type StoredAnswer,
  StoreNotReplicatedError,
  StoreUnavailableError,
} from "./store.ts";

const PREFIX = "wharf:idem:";

/** Redis's clock in ms, and the parts of a pending value (nil for anything else). */
const common = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function pending(value)
  if not value then return nil end
  return string.match(value, '^P|([^|]+)|(%d+)|(%d+)|([^|]*)|(.*)$')
end
local function pendingValue(id, leaseUntil, claimedAt, prior, fp)
  return 'P|' .. id .. '|' .. string.format('%.0f', leaseUntil) .. '|' .. claimedAt .. '|' .. prior .. '|' .. fp
end
`;

// KEYS: key. ARGV: claim id, fingerprint, lease ms, ttl ms. Returns "C|<prior>" when the caller
// holds the key now (also when it already did: a repeat after a dropped connection), else the
// value held. A pending claim with the same fingerprint whose lease lapsed is taken over.
const claimScript = `${common}
local held = redis.call('GET', KEYS[1])
local at = now()
local prior = ''
if held then
  local id, leaseUntil, claimedAt, chain, fp = pending(held)
  if id == ARGV[1] then
    -- Written again with the lease from now, as the holder counts it from this try, and so that
    -- a WAIT after this repeat covers the claim on this connection too (the first try may have
    -- gone to a primary that has failed over since).
    redis.call('SET', KEYS[1], pendingValue(id, at + tonumber(ARGV[3]), claimedAt, chain, fp), 'KEEPTTL')
    return 'C|' .. chain
  end
  if not id or fp ~= ARGV[2] or tonumber(leaseUntil) > at then return held end
  prior = chain .. (chain == '' and '' or ',') .. id .. '@' .. claimedAt
end
redis.call('SET', KEYS[1], pendingValue(ARGV[1], at + tonumber(ARGV[3]), string.format('%.0f', at), prior, ARGV[2]), 'PX', ARGV[4])
return 'C|' .. prior`;

// KEYS: key. ARGV: claim id, lease ms
const renewScript = `${common}
local id, _, claimedAt, prior, fp = pending(redis.call('GET', KEYS[1]))
if id ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], pendingValue(id, now() + tonumber(ARGV[2]), claimedAt, prior, fp), 'KEEPTTL')
return 1`;

// KEYS: key. ARGV: claim id, done value, ttl ms. Repeating a completion that went through is a success.
const completeScript = `${common}
local held = redis.call('GET', KEYS[1])
if held == ARGV[2] then return 1 end
if pending(held) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

// KEYS: key. ARGV: claim id. A claim that took over others lapses at once instead (store.ts).
const releaseScript = `${common}
local id, _, claimedAt, prior, fp = pending(redis.call('GET', KEYS[1]))
if id ~= ARGV[1] then return 0 end
if prior == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], pendingValue(id, 0, claimedAt, prior, fp), 'KEEPTTL')
return 1`;

interface IdempotencyCommands {
  wharfIdemClaim(key: string, id: string, fingerprint: string, leaseMs: number, ttlMs: number): Promise<string>;
  wharfIdemRenew(key: string, id: string, leaseMs: number): Promise<number>;
  wharfIdemComplete(key: string, id: string, done: string, ttlMs: number): Promise<number>;
  wharfIdemRelease(key: string, id: string): Promise<number>;
}

/** A pipeline of one script and WAIT: each reply is [error, value]. */
interface ReplicatedPipeline {
  wharfIdemClaim(key: string, id: string, fingerprint: string, leaseMs: number, ttlMs: number): ReplicatedPipeline;
  wharfIdemComplete(key: string, id: string, done: string, ttlMs: number): ReplicatedPipeline;
  wharfIdemRenew(key: string, id: string, leaseMs: number): ReplicatedPipeline;
  wait(replicas: number, timeoutMs: number): ReplicatedPipeline;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** One try of a command on a connected client; a slower one is tried again (see patientRunner). */
const COMMAND_TIMEOUT_MS = 1000;
/**
 * How long one WAIT blocks (within COMMAND_TIMEOUT_MS). It blocks this client's connection, shared
 * by the node's keyed requests, so it is short and retried rather than long.
 */
const REPLICA_WAIT_MS = 250;

/** A claim the replicas have not confirmed yet: transient, so patientRunner tries again. */
class NotReplicatedYet extends Error {
  override name = "NotReplicatedYet";
}

export interface RedisStoreOptions {
  /** redis.wait.ms: how long a keyed request waits for Redis, over all its commands' tries. */
  waitMs: number;
  /**
   * idempotency.redis.min.replicas: replicas that must confirm a claim and an answer (WAIT), or
   * "connected": as many as the primary has online now.
   */
  minReplicas: number | "connected";
  /** Counts a claim refused or an answer sent that the replicas did not confirm. */
  onUnreplicated?: (write: "claim" | "answer") => void;
  /** With "connected": each count of online replicas read (a gauge). */
  onReplicaCount?: (replicas: number) => void;
}

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

export function createRedisStore(
  connection: RedisConnection,
  log: Logger,
  { waitMs, minReplicas, onUnreplicated = () => {}, onReplicaCount }: RedisStoreOptions,
): IdempotencyStore {
  const redis = createClient(connection, log);
  const patient = patientRunner(redis, waitMs, COMMAND_TIMEOUT_MS);
  // config.ts refuses "connected" with a Cluster: INFO there is one node's, not the key's node's.
  const connected: ReplicaCount | null =
    minReplicas === "connected" && !isCluster(redis)
      ? trackConnectedReplicas(redis, { log, ...(onReplicaCount ? { onCount: onReplicaCount } : {}) })
      : null;
  /** Replicas to WAIT for: a fixed number, or those online when last read. */
  const wanted = (): number | Promise<number> => connected?.wanted() ?? (minReplicas === "connected" ? 0 : minReplicas);
  /** A WAIT came back short: with "connected", a replica may have gone; read them again. */
  const short = () => connected?.stale();

  /** Runs one script with a WAIT after it; returns the script's reply and how many replicas have it. */
  const withWait = async (
    replicasWanted: number,
    add: (pipeline: ReplicatedPipeline) => ReplicatedPipeline,
  ): Promise<{ reply: unknown; replicas: number }> => {
    const pipeline = add(redis.pipeline() as unknown as ReplicatedPipeline).wait(replicasWanted, REPLICA_WAIT_MS);
    const [script, wait] = (await pipeline.exec()) ?? [];
    if (!script || !wait) throw new Error("Redis answered an incomplete pipeline");
    if (script[0]) throw script[0];
    if (wait[0]) throw wait[0];
    return { reply: script[1], replicas: Number(wait[1]) };
  };

  const claimOnce = async (key: string, token: string, fingerprint: string, leaseMs: number, ttlMs: number) => {
    const n = await wanted();
    if (n === 0) return redis.wharfIdemClaim(key, token, fingerprint, leaseMs, ttlMs);
    const { reply, replicas } = await withWait(n, (p) => p.wharfIdemClaim(key, token, fingerprint, leaseMs, ttlMs));
    const held = String(reply);
    // Another holder's value or a stored answer: this claim wrote nothing that must survive.
    if (held.startsWith("C|") && replicas < n) {
      short();
      throw new NotReplicatedYet(`${replicas} of ${n} Redis replicas confirmed the claim`);
    }
    return held;
  };

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

  // The token is the claim id: each script compares it with the one in the value, and the node
  // keeps no state per key.
  return {
    async claim(key, fingerprint, leaseMs, ttlMs): Promise<ClaimResult> {
      const token = randomUUID();
      let held: string;
      // When the try that succeeds was sent: the holder's lease counts from it (ClaimResult).
      let sentAt = 0;
      try {
        held = await patient(() => {
          sentAt = performance.now();
          return claimOnce(PREFIX + key, token, fingerprint, leaseMs, ttlMs);
        });
      } catch (error) {
        if (!(error instanceof NotReplicatedYet)) throw new StoreUnavailableError((error as Error).message);
        onUnreplicated("claim");
        log.warn("idempotency claim not confirmed by Redis replicas; refused", { error: error.message });
        // Nobody writes under it: let the next request have the key (best effort, not waited for long).
        void withDeadline(redis.wharfIdemRelease(PREFIX + key, token), COMMAND_TIMEOUT_MS, "Redis release").catch(
          () => {},
        );
        throw new StoreNotReplicatedError(error.message);
      }
      if (held.startsWith("C|")) return { kind: "claimed", token, prior: decodePrior(held.slice(2)), triedAt: sentAt };
      // The fingerprint is the last field of a pending value, in this format and the one before.
      if (held.startsWith("P|")) return { kind: "in-flight", fingerprint: held.slice(held.lastIndexOf("|") + 1) };
      const done = decodeDone(held.slice(2));
      return { kind: "done", fingerprint: done.fingerprint, answer: done.answer };
    },
    async renew(key, token, leaseMs) {
      const n = await wanted();
      if (n === 0) return (await run(() => redis.wharfIdemRenew(PREFIX + key, token, leaseMs))) === 1;
      // A renewal a failover loses would leave the new primary with an earlier lease than the
      // holder counts on: one the replicas have not confirmed is no renewal (it fails, and the
      // holder's deadline stays where the last confirmed one put it). Not waited for patiently:
      // the next renewal comes a third of the lease later.
      const renewed = withWait(n, (p) => p.wharfIdemRenew(PREFIX + key, token, leaseMs));
      const { reply, replicas } = await withDeadline(renewed, COMMAND_TIMEOUT_MS, "Redis renewal").catch(
        (error: Error) => {
          throw new StoreUnavailableError(error.message);
        },
      );
      if (replicas < n) {
        short();
        throw new StoreNotReplicatedError(`${replicas} of ${n} replicas confirmed the renewal`);
      }
      return Number(reply) === 1;
    },
    async complete(key, token, fingerprint, answer: StoredAnswer, ttlMs) {
      const done = `D|${encodeDone(fingerprint, answer)}`;
      const n = await wanted();
      if (n === 0) return (await run(() => redis.wharfIdemComplete(PREFIX + key, token, done, ttlMs))) === 1;
      const { reply, replicas } = await run(() =>
        withWait(n, (p) => p.wharfIdemComplete(PREFIX + key, token, done, ttlMs)),
      );
      // The records are written and the answer is sent regardless: after a failover that lost it,
      // a retry finds the claim (confirmed when it was made), takes it over and finds the records.
      if (replicas < n) {
        short();
        onUnreplicated("answer");
        log.warn("idempotency answer not confirmed by Redis replicas", { replicas, wanted: n });
      }
      return Number(reply) === 1;
    },
    async release(key, token) {
      await run(() => redis.wharfIdemRelease(PREFIX + key, token));
    },
    async close() {
      connected?.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
