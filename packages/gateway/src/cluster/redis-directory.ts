/**
 * The instance directory in Redis (ioredis). Keys, per consumer instance:
 *   wharf:ci:{group:name}     hash {settings, subscription, epoch}; expires after the idle timeout
 *   wharf:lease:{group:name}  "{node}|{epoch}" with a short TTL the owner renews
 * and per node `wharf:node:{id}` = its internal URL with a short TTL (the live-node registry).
 * State changes that read-then-write run as Lua scripts so two nodes cannot both win.
 *
 * The braces are Redis Cluster hash tags: an instance's record and lease hash to one slot, so a
 * script may touch both there too. A node key lives in another slot, so in a Cluster the scripts
 * never read it (a script may only touch its own slot); the caller reads it beside the script.
 * With one server (plain or behind Sentinel) the scripts read it themselves: one round trip.
 */
import type { GatewayConfig } from "../config.ts";
import { withDeadline } from "../deadline.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type {
  AdoptResult,
  InstanceDirectory,
  InstanceLocation,
  InstanceRecord,
  LocalInstanceState,
} from "./instance-directory.ts";
import { createRedisClient, isCluster, isTransientRedisError, type RedisClient, readyWaiter } from "./redis-client.ts";

const PREFIX = "wharf:";
/** How long a directory command may take before the request gets a retriable 503. */
const COMMAND_TIMEOUT_MS = 2000;
const part = (s: string) => encodeURIComponent(s);
// encodeURIComponent escapes braces, so a group or name can never close the hash tag early.
const tag = (group: string, name: string) => `{${part(group)}:${part(name)}}`;
const recordKey = (group: string, name: string) => `${PREFIX}ci:${tag(group, name)}`;
const leaseKey = (group: string, name: string) => `${PREFIX}lease:${tag(group, name)}`;
const NODE_PREFIX = `${PREFIX}node:`;
const nodeKey = (node: string) => `${NODE_PREFIX}${node}`;
const leaseOwner = (lease: string) => lease.slice(0, lease.lastIndexOf("|"));

// KEYS: record, lease. ARGV: node, settings, subscription, leaseTtl, idleTtl
const createScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'settings', ARGV[2], 'subscription', ARGV[3], 'epoch', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[1] .. '|1', 'PX', ARGV[4])
return 1`;

// KEYS: record, lease. ARGV: nodeKeyPrefix ('' in a Cluster: the caller reads the owner's address).
// One round trip for the hot path of forwarding.
const lookupScript = `
local r = redis.call('HMGET', KEYS[1], 'settings', 'subscription', 'epoch')
if not r[1] then return false end
local lease = redis.call('GET', KEYS[2])
local address = false
if lease and ARGV[1] ~= '' then address = redis.call('GET', ARGV[1] .. string.match(lease, '^(.*)|')) end
return {r[1], r[2], r[3], lease or '', address or ''}`;

// KEYS: record, lease. ARGV: node, leaseTtl, nodeKeyPrefix, expectedLease
// With a prefix the script checks the owner's liveness itself. Without one (a Cluster) the caller
// found `expectedLease`'s owner dead: the script takes over only if the lease is still that one,
// so an owner that renewed, or a node that adopted meanwhile, keeps the instance.
const adoptScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
local lease = redis.call('GET', KEYS[2])
if lease then
  local owner = string.match(lease, '^(.*)|')
  if owner ~= ARGV[1] then
    if ARGV[3] ~= '' then
      if redis.call('EXISTS', ARGV[3] .. owner) == 1 then return {'owned', owner} end
    elseif lease ~= ARGV[4] then
      return {'owned', owner}
    end
  end
end
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. epoch, 'PX', ARGV[2])
local r = redis.call('HMGET', KEYS[1], 'settings', 'subscription')
return {'adopted', tostring(epoch), r[1], r[2]}`;

// KEYS: record, lease. ARGV: node|epoch, leaseTtl, idleTtl, settings, subscription
// Renews a lease this node holds; re-creates a record Redis lost (a restart without persistence).
const renewScript = `
local lease = redis.call('GET', KEYS[2])
if lease and lease ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then
  local epoch = string.match(ARGV[1], '|(%d+)$')
  redis.call('HSET', KEYS[1], 'settings', ARGV[4], 'subscription', ARGV[5], 'epoch', epoch)
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

// KEYS: lease. ARGV: node|epoch
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// KEYS: record, lease. ARGV: node, subscription
const saveSubscriptionScript = `
local lease = redis.call('GET', KEYS[2])
if not lease or string.match(lease, '^(.*)|') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'subscription', ARGV[2])
return 1`;

interface DirectoryCommands {
  wharfLookup(record: string, lease: string, ...args: string[]): Promise<string[] | null>;
  wharfCreate(record: string, lease: string, ...args: (string | number)[]): Promise<number>;
  wharfAdopt(record: string, lease: string, ...args: (string | number)[]): Promise<string[]>;
  wharfRenew(record: string, lease: string, ...args: (string | number)[]): Promise<number>;
  wharfRelease(lease: string, ...args: (string | number)[]): Promise<number>;
  wharfSaveSubscription(record: string, lease: string, ...args: (string | number)[]): Promise<number>;
}

export function createRedisDirectory(config: GatewayConfig, log: Logger, metrics: Metrics): InstanceDirectory {
  if (!config.redis) throw new Error("createRedisDirectory needs config.redis");
  // Fail fast while Redis is away: consumer requests get a clear 503 instead of hanging.
  const redis = createRedisClient(config.redis, {
    maxRetriesPerRequest: 1,
    connectTimeoutMs: 2000,
    reconnectDelayMs: 500,
  }) as RedisClient & DirectoryCommands;
  const cluster = isCluster(redis);
  /** Scripts read node keys only where every key is on the one server. */
  const scriptNodePrefix = cluster ? "" : NODE_PREFIX;
  redis.defineCommand("wharfCreate", { numberOfKeys: 2, lua: createScript });
  redis.defineCommand("wharfLookup", { numberOfKeys: 2, lua: lookupScript });
  redis.defineCommand("wharfAdopt", { numberOfKeys: 2, lua: adoptScript });
  redis.defineCommand("wharfRenew", { numberOfKeys: 2, lua: renewScript });
  redis.defineCommand("wharfRelease", { numberOfKeys: 1, lua: releaseScript });
  redis.defineCommand("wharfSaveSubscription", { numberOfKeys: 2, lua: saveSubscriptionScript });

  const ready = readyWaiter(redis);
  const unavailableReason = () => (redis.status === "ready" ? null : `Redis is unavailable (${redis.status})`);

  let lastError: string | null = null;
  redis.on("error", (error: Error) => {
    metrics.redisErrors.inc();
    if (lastError !== error.message) log.warn("redis error", { error: error.message });
    lastError = error.message;
  });
  let connectedOnce = false;
  let reconnectedAt = 0;
  /** A command failed transiently and none has succeeded since (Redis away without a disconnect). */
  let failing = false;
  const reconnectListeners: Array<() => void> = [];
  // Owners re-publish on their next renewal; until every node has had that chance, an instance
  // missing from Redis may only be missing because Redis restarted.
  const recoveryMs = Math.max(3 * config.cluster.heartbeatMs, 2000);
  const cameBack = (how: string) => {
    log.info(how);
    reconnectedAt = Date.now();
    for (const listener of reconnectListeners) listener();
  };
  redis.on("ready", () => {
    if (connectedOnce) cameBack("redis reconnected");
    connectedOnce = true;
    failing = false;
    lastError = null;
  });

  const leaseTtl = config.cluster.leaseTtlMs;
  const idleTtl = config.consumer.instanceTimeoutMs;
  const parseRecord = (settings: string, subscription: string, epoch: number): InstanceRecord => ({
    settings: JSON.parse(settings),
    subscription: JSON.parse(subscription),
    epoch,
  });
  // Redis can be away without the connection dropping: a Redis Cluster that lost a node answers
  // CLUSTERDOWN, a stalled server answers late. Leases lapse then as in a reconnect, so the first
  // success after such failures counts as Redis coming back (see recovering()).
  const call = async <T>(operation: () => Promise<T>): Promise<T> => {
    let result: T;
    try {
      result = await withDeadline(operation(), COMMAND_TIMEOUT_MS, "Redis command");
    } catch (error) {
      metrics.redisErrors.inc();
      if (isTransientRedisError(error) && redis.status === "ready") failing = true;
      throw error;
    }
    if (failing) {
      failing = false;
      cameBack("redis answering again");
    }
    return result;
  };

  return {
    distributed: true,
    unavailableReason,
    whenAvailable: async () => ((await ready(config.redisWaitMs)) ? null : unavailableReason()),
    recovering: () => Date.now() - reconnectedAt < recoveryMs,
    onReconnect: (listener) => {
      reconnectListeners.push(listener);
    },

    create: (node, record) =>
      call(async () => {
        const { group, name } = record.settings;
        const created = await redis.wharfCreate(
          recordKey(group, name),
          leaseKey(group, name),
          node,
          JSON.stringify(record.settings),
          JSON.stringify(record.subscription),
          leaseTtl,
          idleTtl,
        );
        return created === 1;
      }),

    lookup: (group, name) =>
      call(async (): Promise<InstanceLocation | null> => {
        const reply = await redis.wharfLookup(recordKey(group, name), leaseKey(group, name), scriptNodePrefix);
        if (!reply) return null;
        const [settings, subscription, epoch, lease, address] = reply as [string, string, string, string, string];
        const record = parseRecord(settings, subscription, Number(epoch || 1));
        const owner = lease ? leaseOwner(lease) : null;
        const ownerAddress = cluster && owner ? await redis.get(nodeKey(owner)) : address || null;
        return { record, leaseOwner: owner, ownerAddress };
      }),

    adopt: (node, group, name) =>
      call(async (): Promise<AdoptResult> => {
        let expectedLease = "";
        if (cluster) {
          expectedLease = (await redis.get(leaseKey(group, name))) ?? "";
          const owner = expectedLease ? leaseOwner(expectedLease) : node;
          if (owner !== node && (await redis.exists(nodeKey(owner))) === 1) return { ownedBy: owner };
        }
        const reply = await redis.wharfAdopt(
          recordKey(group, name),
          leaseKey(group, name),
          node,
          leaseTtl,
          scriptNodePrefix,
          expectedLease,
        );
        if (reply[0] === "gone") return { gone: true };
        if (reply[0] === "owned") return { ownedBy: reply[1] as string };
        return { adopted: parseRecord(reply[2] as string, reply[3] as string, Number(reply[1])) };
      }),

    saveSubscription: (node, group, name, subscription) =>
      call(async () => {
        await redis.wharfSaveSubscription(
          recordKey(group, name),
          leaseKey(group, name),
          node,
          JSON.stringify(subscription),
        );
      }),

    renew: (node, address, instances) =>
      call(async () => {
        const now = Date.now();
        const renewArgs = (i: LocalInstanceState) =>
          [
            recordKey(i.group, i.name),
            leaseKey(i.group, i.name),
            `${node}|${i.epoch}`,
            leaseTtl,
            Math.max(1000, i.lastUsed + idleTtl - now),
            JSON.stringify(i.record.settings),
            JSON.stringify(i.record.subscription),
          ] as const;
        let results: number[];
        if (cluster) {
          // Each instance is its own slot, so no one pipeline can carry them all; the commands
          // still go out together, one write per node the slots live on.
          const [, ...renewed] = await Promise.all([
            address ? redis.set(nodeKey(node), address, "PX", config.cluster.nodeTtlMs) : null,
            ...instances.map((i) => redis.wharfRenew(...renewArgs(i))),
          ]);
          results = renewed;
        } else {
          const pipeline = redis.pipeline();
          if (address) pipeline.set(nodeKey(node), address, "PX", config.cluster.nodeTtlMs);
          for (const i of instances) (pipeline as unknown as DirectoryCommands).wharfRenew(...renewArgs(i));
          const replies = (await pipeline.exec()) ?? [];
          // The node key's own reply counts too: a refused registration is a failed renewal.
          for (const [error] of replies) if (error) throw error;
          results = replies.slice(address ? 1 : 0).map(([, value]) => value as number);
        }
        const lost: LocalInstanceState[] = [];
        instances.forEach((instance, index) => {
          if (results[index] === 0) lost.push(instance);
        });
        return lost;
      }),

    release: (node, group, name) =>
      call(async () => {
        const lease = await redis.get(leaseKey(group, name));
        if (lease?.startsWith(`${node}|`)) await redis.wharfRelease(leaseKey(group, name), lease);
      }),

    remove: (group, name) =>
      call(async () => {
        await redis.del(recordKey(group, name), leaseKey(group, name));
      }),

    async close() {
      redis.disconnect();
    },
  };
}
