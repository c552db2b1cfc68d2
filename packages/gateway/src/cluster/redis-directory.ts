/**
 * The instance directory in Redis (ioredis). Keys, per consumer instance:
 *   wharf:ci:{group}:{name}     hash {settings, subscription, epoch}; expires after the idle timeout
 *   wharf:lease:{group}:{name}  "{node}|{epoch}" with a short TTL the owner renews
 * and per node `wharf:node:{id}` = its internal URL with a short TTL (the live-node registry).
 * State changes that read-then-write run as Lua scripts so two nodes cannot both win.
 */
import { Redis } from "ioredis";
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

const PREFIX = "wharf:";
/** How long a directory command may take before the request gets a retriable 503. */
const COMMAND_TIMEOUT_MS = 2000;
const part = (s: string) => encodeURIComponent(s);
const recordKey = (group: string, name: string) => `${PREFIX}ci:${part(group)}:${part(name)}`;
const leaseKey = (group: string, name: string) => `${PREFIX}lease:${part(group)}:${part(name)}`;
const nodeKey = (node: string) => `${PREFIX}node:${node}`;

// KEYS: record, lease. ARGV: node, settings, subscription, leaseTtl, idleTtl
const createScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'settings', ARGV[2], 'subscription', ARGV[3], 'epoch', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[1] .. '|1', 'PX', ARGV[4])
return 1`;

// KEYS: record, lease. ARGV: nodeKeyPrefix. One round trip for the hot path of forwarding.
const lookupScript = `
local r = redis.call('HMGET', KEYS[1], 'settings', 'subscription', 'epoch')
if not r[1] then return false end
local lease = redis.call('GET', KEYS[2])
local address = false
if lease then address = redis.call('GET', ARGV[1] .. string.match(lease, '^(.*)|')) end
return {r[1], r[2], r[3], lease or '', address or ''}`;

// KEYS: record, lease. ARGV: node, leaseTtl, nodeKeyPrefix
const adoptScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
local lease = redis.call('GET', KEYS[2])
if lease then
  local owner = string.match(lease, '^(.*)|')
  if owner ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return {'owned', owner} end
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
  wharfLookup(record: string, lease: string, nodePrefix: string): Promise<string[] | null>;
  wharfCreate(record: string, lease: string, ...args: (string | number)[]): Promise<number>;
  wharfAdopt(record: string, lease: string, ...args: (string | number)[]): Promise<string[]>;
  wharfRenew(record: string, lease: string, ...args: (string | number)[]): Promise<number>;
  wharfRelease(lease: string, ...args: (string | number)[]): Promise<number>;
  wharfSaveSubscription(record: string, lease: string, ...args: (string | number)[]): Promise<number>;
}

export function createRedisDirectory(config: GatewayConfig, log: Logger, metrics: Metrics): InstanceDirectory {
  const redis = new Redis(config.redisUrl as string, {
    // Fail fast while Redis is away: consumer requests get a clear 503 instead of hanging.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // No commandTimeout: its bare timer misfires after an event-loop stall; call() bounds each
    // command with withDeadline instead.
    retryStrategy: () => 500,
    lazyConnect: false,
  }) as Redis & DirectoryCommands;
  redis.defineCommand("wharfCreate", { numberOfKeys: 2, lua: createScript });
  redis.defineCommand("wharfLookup", { numberOfKeys: 2, lua: lookupScript });
  redis.defineCommand("wharfAdopt", { numberOfKeys: 2, lua: adoptScript });
  redis.defineCommand("wharfRenew", { numberOfKeys: 2, lua: renewScript });
  redis.defineCommand("wharfRelease", { numberOfKeys: 1, lua: releaseScript });
  redis.defineCommand("wharfSaveSubscription", { numberOfKeys: 2, lua: saveSubscriptionScript });

  let lastError: string | null = null;
  redis.on("error", (error: Error) => {
    metrics.redisErrors.inc();
    if (lastError !== error.message) log.warn("redis error", { error: error.message });
    lastError = error.message;
  });
  let connectedOnce = false;
  let reconnectedAt = 0;
  const reconnectListeners: Array<() => void> = [];
  // Owners re-publish on their next renewal; until every node has had that chance, an instance
  // missing from Redis may only be missing because Redis restarted.
  const recoveryMs = Math.max(3 * config.cluster.heartbeatMs, 2000);
  redis.on("ready", () => {
    if (connectedOnce) {
      log.info("redis reconnected");
      reconnectedAt = Date.now();
      for (const listener of reconnectListeners) listener();
    }
    connectedOnce = true;
    lastError = null;
  });

  const leaseTtl = config.cluster.leaseTtlMs;
  const idleTtl = config.consumer.instanceTimeoutMs;
  const parseRecord = (settings: string, subscription: string, epoch: number): InstanceRecord => ({
    settings: JSON.parse(settings),
    subscription: JSON.parse(subscription),
    epoch,
  });
  const call = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await withDeadline(operation(), COMMAND_TIMEOUT_MS, "Redis command");
    } catch (error) {
      metrics.redisErrors.inc();
      throw error;
    }
  };

  return {
    distributed: true,
    unavailableReason: () => (redis.status === "ready" ? null : `Redis is unavailable (${redis.status})`),
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
        const reply = await redis.wharfLookup(recordKey(group, name), leaseKey(group, name), `${PREFIX}node:`);
        if (!reply) return null;
        const [settings, subscription, epoch, lease, address] = reply as [string, string, string, string, string];
        const record = parseRecord(settings, subscription, Number(epoch || 1));
        const leaseOwner = lease ? lease.slice(0, lease.lastIndexOf("|")) : null;
        return { record, leaseOwner, ownerAddress: address || null };
      }),

    adopt: (node, group, name) =>
      call(async (): Promise<AdoptResult> => {
        const reply = await redis.wharfAdopt(
          recordKey(group, name),
          leaseKey(group, name),
          node,
          leaseTtl,
          `${PREFIX}node:`,
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
        const pipeline = redis.pipeline();
        if (address) pipeline.set(nodeKey(node), address, "PX", config.cluster.nodeTtlMs);
        const now = Date.now();
        for (const i of instances) {
          const idleLeft = Math.max(1000, i.lastUsed + idleTtl - now);
          (pipeline as unknown as DirectoryCommands).wharfRenew(
            recordKey(i.group, i.name),
            leaseKey(i.group, i.name),
            `${node}|${i.epoch}`,
            leaseTtl,
            idleLeft,
            JSON.stringify(i.record.settings),
            JSON.stringify(i.record.subscription),
          );
        }
        const results = (await pipeline.exec()) ?? [];
        const offset = address ? 1 : 0;
        const lost: LocalInstanceState[] = [];
        instances.forEach((instance, index) => {
          const [error, value] = results[index + offset] ?? [null, 1];
          if (error) throw error;
          if (value === 0) lost.push(instance);
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
