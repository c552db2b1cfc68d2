/**
 * The consumer instances this node owns: creating, adopting and closing them, renewing their
 * leases, expiring idle ones, and handing all of them off on a graceful shutdown.
 */
import type { GatewayConfig } from "../config.ts";
import { ErrorCode, RestError, serviceUnavailable } from "../errors.ts";
import { ConsumerInstance, type ConsumerSettings, type Subscription } from "../kafka/consumer-instance.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { InstanceDirectory, InstanceRecord, LocalInstanceState } from "./instance-directory.ts";

interface Owned {
  instance: ConsumerInstance;
  epoch: number;
}

/**
 * A lease this node holds for an instance whose librdkafka consumer is still being built: the
 * connect can outlast the lease on a busy machine, and a lease left to lapse meanwhile would be
 * taken by the next node that looks the instance up.
 */
interface Claim {
  state: LocalInstanceState;
  lost: boolean;
}

const key = (group: string, name: string) => `${group}\u0000${name}`;

export interface ConsumerHost {
  get(group: string, name: string): ConsumerInstance | undefined;
  create(settings: ConsumerSettings): Promise<ConsumerInstance>;
  /** Recreates an instance this node just took the lease of, from its stored record. */
  adopt(record: InstanceRecord): Promise<ConsumerInstance>;
  saveSubscription(instance: ConsumerInstance): Promise<void>;
  delete(group: string, name: string): Promise<void>;
  readonly size: number;
  /** True once a graceful shutdown began: nothing is created or adopted here any more. */
  readonly draining: boolean;
  /**
   * Resolves once this node is in the directory as a live node (its first renewal went through):
   * before that, another node looking up an instance created here would find its owner dead and
   * adopt it. A retriable 503 if the directory cannot be reached.
   */
  registered(): Promise<void>;
  start(): void;
  /** Graceful shutdown: commit (when auto-commit is on), close and release every lease. */
  handOff(): Promise<void>;
}

export function createConsumerHost(
  config: GatewayConfig,
  directory: InstanceDirectory,
  log: Logger,
  metrics: Metrics,
  internalAddress: () => string | null,
): ConsumerHost {
  const owned = new Map<string, Owned>();
  const claims = new Map<string, Claim>();
  let isRegistered = false;
  let timers: NodeJS.Timeout[] = [];
  let draining = false;
  let clientSeq = 0;

  const track = () => metrics.consumerInstances.set(owned.size);
  const instanceHooks = { readAhead: (records: number) => metrics.consumerReadAhead.inc(records) };
  metrics.sampled.consumerInstancesPaused = () => {
    let paused = 0;
    for (const { instance } of owned.values()) if (instance.fetchPaused) paused++;
    return paused;
  };
  const clientId = (s: ConsumerSettings) => `wharf-${config.id}-${s.name}-${++clientSeq}`;

  const applySubscription = async (instance: ConsumerInstance, subscription: Subscription) => {
    if (subscription.kind === "topics" || subscription.kind === "pattern") await instance.subscribe(subscription);
    else if (subscription.kind === "assignment") await instance.assign(subscription.partitions);
  };

  const drop = async (k: string, entry: Owned, options: { commit: boolean }) => {
    if (owned.get(k) === entry) owned.delete(k);
    track();
    await entry.instance.close(options);
  };

  /**
   * Builds the consumer of an instance whose lease this node has just taken, renewing that lease
   * meanwhile; null (the consumer closed again) if another node took the instance over first.
   */
  const buildClaimed = async (record: InstanceRecord, build: () => Promise<ConsumerInstance>) => {
    const { settings, epoch } = record;
    const k = key(settings.group, settings.name);
    const claim: Claim = {
      state: { group: settings.group, name: settings.name, epoch, lastUsed: Date.now(), record },
      lost: false,
    };
    claims.set(k, claim);
    let instance: ConsumerInstance;
    try {
      instance = await build();
    } finally {
      claims.delete(k);
    }
    if (!claim.lost) return instance;
    await instance.close({ commit: false });
    return null;
  };
  const movedAway = () =>
    serviceUnavailable("Consumer instance moved to another node while it was set up here; retry.");

  const renew = async () => {
    const states: LocalInstanceState[] = [...owned.values()].map(({ instance, epoch }) => ({
      group: instance.settings.group,
      name: instance.settings.name,
      epoch,
      lastUsed: instance.lastUsed,
      record: { settings: instance.settings, subscription: instance.subscription, epoch },
    }));
    for (const claim of claims.values()) states.push(claim.state);
    try {
      const lost = await directory.renew(config.id, internalAddress(), states);
      isRegistered = true;
      for (const state of lost) {
        const k = key(state.group, state.name);
        const claim = claims.get(k);
        if (claim?.state === state) {
          claim.lost = true;
          continue;
        }
        const entry = owned.get(k);
        if (!entry || entry.epoch !== state.epoch) continue;
        // Another node adopted it (this node was cut off); it is theirs now.
        log.warn("consumer lease lost", { group: state.group, instance: state.name });
        metrics.leasesLost.inc();
        await drop(k, entry, { commit: false });
      }
    } catch (error) {
      metrics.leaseRenewalFailures.inc();
      log.debug("lease renewal failed", { error: (error as Error).message });
    }
  };

  const registered = async () => {
    if (isRegistered) return;
    await renew();
    if (!isRegistered) throw serviceUnavailable("This node is not in the consumer directory yet; retry.");
  };

  const sweepIdle = async () => {
    const now = Date.now();
    for (const [k, entry] of owned) {
      if (now - entry.instance.lastUsed < config.consumer.instanceTimeoutMs) continue;
      const { group, name } = entry.instance.settings;
      log.info("consumer instance expired", { group, instance: name });
      await drop(k, entry, { commit: true });
      await directory.remove(group, name).catch(() => {});
    }
  };

  return {
    get: (group, name) => owned.get(key(group, name))?.instance,
    get size() {
      return owned.size;
    },
    get draining() {
      return draining;
    },

    registered,

    async create(settings) {
      if (draining) throw serviceUnavailable("This node is shutting down; retry.");
      const k = key(settings.group, settings.name);
      const record: InstanceRecord = { settings, subscription: { kind: "none" }, epoch: 1 };
      const unavailable = await directory.whenAvailable();
      if (unavailable) throw serviceUnavailable(`${unavailable}: consumers cannot be created until it returns.`);
      await registered();
      const claimed = await directory.create(config.id, record).catch((error: Error) => {
        throw serviceUnavailable(`Consumer directory unavailable: ${error.message}`);
      });
      if (owned.has(k) || !claimed) {
        throw new RestError(
          409,
          ErrorCode.ConsumerAlreadyExists,
          "Consumer with specified consumer ID already exists in the specified consumer group.",
        );
      }
      let instance: ConsumerInstance | null;
      try {
        instance = await buildClaimed(record, () =>
          ConsumerInstance.create(config, settings, clientId(settings), instanceHooks),
        );
      } catch (error) {
        await directory.remove(settings.group, settings.name).catch(() => {});
        throw error;
      }
      // The record is the adopter's now: it stays.
      if (!instance) throw movedAway();
      owned.set(k, { instance, epoch: 1 });
      track();
      return instance;
    },

    async adopt(record) {
      if (draining) throw serviceUnavailable("This node is shutting down; retry.");
      const { settings } = record;
      const k = key(settings.group, settings.name);
      const existing = owned.get(k);
      if (existing) return existing.instance;
      let instance: ConsumerInstance | null;
      try {
        instance = await buildClaimed(record, async () => {
          const built = await ConsumerInstance.create(config, settings, clientId(settings), instanceHooks);
          await applySubscription(built, record.subscription).catch(async (error: Error) => {
            await built.close({ commit: false });
            throw error;
          });
          return built;
        });
      } catch (error) {
        throw serviceUnavailable(`Could not take over the consumer instance: ${(error as Error).message}`);
      }
      if (!instance) throw movedAway();
      owned.set(k, { instance, epoch: record.epoch });
      track();
      metrics.adoptions.inc();
      log.info("consumer instance adopted", { group: settings.group, instance: settings.name, epoch: record.epoch });
      return instance;
    },

    saveSubscription: (instance) =>
      directory.saveSubscription(config.id, instance.settings.group, instance.settings.name, instance.subscription),

    async delete(group, name) {
      const k = key(group, name);
      const entry = owned.get(k);
      if (entry) await drop(k, entry, { commit: true });
      await directory.remove(group, name);
    },

    start() {
      // After a Redis restart, re-publish this node's instances at once rather than at the next tick.
      directory.onReconnect(() => void renew());
      const renewTimer = setInterval(() => void renew(), config.cluster.heartbeatMs);
      const sweepTimer = setInterval(() => void sweepIdle(), 1000);
      renewTimer.unref();
      sweepTimer.unref();
      timers = [renewTimer, sweepTimer];
      void renew();
    },

    async handOff() {
      draining = true;
      for (const t of timers) clearInterval(t);
      timers = [];
      await Promise.all(
        [...owned.entries()].map(async ([k, entry]) => {
          await drop(k, entry, { commit: true });
          const { group, name } = entry.instance.settings;
          await directory.release(config.id, group, name).catch(() => {});
        }),
      );
    },
  };
}
