/**
 * The one place that turns `config.redis` into an ioredis client: a plain connection, a primary
 * found through Sentinel, or a Redis Cluster. Callers choose how impatient the client is (the
 * directory waits longer than a rate check may), not which kind of Redis they talk to.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { withDeadline } from "../deadline.ts";
import type { RedisConnection } from "./redis-settings.ts";

/** What both ioredis kinds offer and Wharf uses (commands, scripts, events, `status`). */
export type RedisClient = Redis | Cluster;

/**
 * There is no commandTimeout here on purpose: ioredis's is a bare timer, which misfires after an
 * event-loop stall even when the reply has arrived. Callers bound each command with withDeadline
 * (../deadline.ts) instead.
 */
export interface RedisClientOptions {
  connectTimeoutMs: number;
  /** Resends of a command after a connection loss; 0 fails it at once. */
  maxRetriesPerRequest: number;
  /** Pause between reconnection attempts, for as long as Redis stays away. */
  reconnectDelayMs: number;
}

export function createRedisClient(connection: RedisConnection, options: RedisClientOptions): RedisClient {
  // No offline queue: while Redis is away a command fails at once, so requests get a clear 503
  // (or a rate check falls back) instead of hanging on a queue that replays later.
  const common: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    connectTimeout: options.connectTimeoutMs,
  };
  const retry = () => options.reconnectDelayMs;
  switch (connection.kind) {
    case "standalone":
      return new Redis(connection.url, { ...common, retryStrategy: retry });
    case "sentinel":
      return new Redis({
        ...common,
        sentinels: connection.sentinels,
        name: connection.masterName,
        role: "master",
        ...(connection.password ? { password: connection.password } : {}),
        ...(connection.sentinelPassword ? { sentinelPassword: connection.sentinelPassword } : {}),
        // A reconnect asks the sentinels for the primary again, so after a failover it lands on
        // the promoted replica. A primary demoted while still reachable (a healed partition)
        // answers writes with READONLY: that too means "ask the sentinels again".
        // (ioredis' failoverDetector is not used: its disconnect can race a reconnect that is
        // resolving the primary, and then the client gives up for good, status "end".)
        retryStrategy: retry,
        sentinelRetryStrategy: retry,
        reconnectOnError: (error) => error.message.startsWith("READONLY"),
      });
    case "cluster":
      return new Cluster(connection.nodes, {
        enableOfflineQueue: false,
        clusterRetryStrategy: retry,
        // A MOVED during a resharding or a failover is followed at once; only a cluster that is
        // down waits (and then fails the command: the offline queue is off).
        retryDelayOnFailover: 100,
        redisOptions: {
          maxRetriesPerRequest: options.maxRetriesPerRequest,
          connectTimeout: options.connectTimeoutMs,
          ...(connection.password ? { password: connection.password } : {}),
        },
      });
  }
}

/** A Cluster spreads keys over nodes: commands of one script or pipeline must share a slot. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * Waits for the client's next "ready" (its reconnect, or a Sentinel failover followed), bounded per
 * caller: true once connected, false when `ms` passed first. One listener is shared by every
 * caller waiting meanwhile, not one each.
 */
export function readyWaiter(client: RedisClient): (ms: number) => Promise<boolean> {
  let next: Promise<true> | null = null;
  return async (ms) => {
    if (client.status === "ready") return true;
    if (ms <= 0) return false;
    next ??= new Promise<true>((resolve) => {
      client.once("ready", () => {
        next = null;
        resolve(true);
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<boolean>((resolve) => {
      // After an event-loop stall the timer may fire before "ready" is seen: ask the client itself.
      timer = setTimeout(() => resolve(client.status === "ready"), ms);
    });
    try {
      return await Promise.race([next, elapsed]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Error replies that mean "not this server, or not now" (a demoted primary, a node loading its
 * data, a cluster reconfiguring, a primary missing the replicas `min-replicas-to-write` asks
 * for): another try, after a reconnect or a moment, may succeed.
 */
const TRANSIENT_REPLY = /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)\b/;

/** Whether a failed command may succeed if sent again: anything but a server's definite refusal. */
export function isTransientRedisError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // A lost connection, a stream that is not writable, retries used up, a deadline passed.
  if (error.name !== "ReplyError") return true;
  return TRANSIENT_REPLY.test(error.message);
}

/** Pause between tries, so a client still calling itself ready while its connection closes can. */
const RETRY_PAUSE_MS = 50;

/**
 * Runs commands that are safe to send twice, each within `commandTimeoutMs`, and rides out a
 * reconnect, a Sentinel failover or a slow server: a try that fails transiently is made again
 * once the client is ready, until `waitMs` has passed since the first. The client's status alone
 * cannot decide this: after a READONLY reply or a dropped socket it still says "ready" until the
 * close event has run.
 */
export function patientRunner(
  client: RedisClient,
  waitMs: number,
  commandTimeoutMs: number,
): <T>(command: () => Promise<T>) => Promise<T> {
  const ready = readyWaiter(client);
  return async (command) => {
    const until = Date.now() + waitMs;
    for (;;) {
      if (!(await ready(until - Date.now()))) throw new Error(`Redis is not connected (${client.status})`);
      try {
        return await withDeadline(command(), commandTimeoutMs, "Redis command");
      } catch (error) {
        if (!isTransientRedisError(error) || Date.now() >= until) throw error;
        await sleep(Math.min(RETRY_PAUSE_MS, Math.max(0, until - Date.now())));
      }
    }
  };
}
