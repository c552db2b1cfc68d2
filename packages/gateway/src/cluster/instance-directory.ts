/**
 * Where consumer instances live: who owns each (a lease with an epoch), what it was created
 * with, and the addresses of live nodes. Redis backs it in a cluster; a lone node keeps it in
 * memory. It is a routing hint: Kafka's group protocol is what really fences a stale owner.
 */
import type { ConsumerSettings, Subscription } from "../kafka/consumer-instance.ts";

export interface InstanceRecord {
  settings: ConsumerSettings;
  subscription: Subscription;
  epoch: number;
}

export interface InstanceLocation {
  record: InstanceRecord;
  /** Node holding a live lease, or null when the lease has lapsed. */
  leaseOwner: string | null;
  /** Internal URL of the lease owner, or null when it is not a live node. */
  ownerAddress: string | null;
}

export type AdoptResult = { adopted: InstanceRecord } | { ownedBy: string } | { gone: true };

export interface LocalInstanceState {
  group: string;
  name: string;
  epoch: number;
  lastUsed: number;
  record: InstanceRecord;
}

export interface InstanceDirectory {
  /** True when other nodes may own instances (requests may need forwarding or adoption). */
  readonly distributed: boolean;
  /** Null when healthy; otherwise why consumer requests cannot be served now. */
  unavailableReason(): string | null;
  /** Waits, up to redis.wait.ms, until the directory is reachable; null then, else why not. */
  whenAvailable(): Promise<string | null>;
  /**
   * True for a short while after Redis came back: a Redis restarted without persistence has lost
   * every record until the owners re-publish theirs, so "not found" is not yet an answer.
   */
  recovering(): boolean;
  /** Called whenever the connection to the directory is re-established. */
  onReconnect(listener: () => void): void;
  /** Claims a new instance for `node`; false when the name is already taken in the group. */
  create(node: string, record: InstanceRecord): Promise<boolean>;
  lookup(group: string, name: string): Promise<InstanceLocation | null>;
  /** Takes ownership when the lease has lapsed or its owner is not a live node. */
  adopt(node: string, group: string, name: string): Promise<AdoptResult>;
  saveSubscription(node: string, group: string, name: string, subscription: Subscription): Promise<void>;
  /** Renews this node's registration and leases; returns the instances it no longer owns. */
  renew(node: string, address: string | null, instances: LocalInstanceState[]): Promise<LocalInstanceState[]>;
  /** Gives up a lease so the next request adopts the instance at once (graceful hand-off). */
  release(node: string, group: string, name: string): Promise<void>;
  remove(group: string, name: string): Promise<void>;
  close(): Promise<void>;
}

const key = (group: string, name: string) => `${group}\u0000${name}`;

/** The embedded default for one node: ownership is always local. */
export function createMemoryDirectory(): InstanceDirectory {
  const records = new Map<string, InstanceRecord>();
  return {
    distributed: false,
    unavailableReason: () => null,
    whenAvailable: async () => null,
    recovering: () => false,
    onReconnect: () => {},
    async create(_node, record) {
      const k = key(record.settings.group, record.settings.name);
      if (records.has(k)) return false;
      records.set(k, record);
      return true;
    },
    async lookup(group, name) {
      const record = records.get(key(group, name));
      return record ? { record, leaseOwner: null, ownerAddress: null } : null;
    },
    async adopt() {
      return { gone: true };
    },
    async saveSubscription(_node, group, name, subscription) {
      const record = records.get(key(group, name));
      if (record) record.subscription = subscription;
    },
    async renew() {
      return [];
    },
    async release() {},
    async remove(group, name) {
      records.delete(key(group, name));
    },
    async close() {},
  };
}
