/**
 * Finds where a consumer instance lives: here, on another live node (forward), or nowhere alive
 * (adopt it here). The forward target comes only from the directory, never from the request.
 */
import { consumerInstanceNotFound, serviceUnavailable } from "../errors.ts";
import type { ConsumerInstance } from "../kafka/consumer-instance.ts";
import type { ConsumerHost } from "./consumer-host.ts";
import type { InstanceDirectory } from "./instance-directory.ts";

export type Location = { local: ConsumerInstance } | { remote: string };

export interface Locator {
  /** allowForward is false for requests that were already forwarded once (no ping-pong). */
  locate(group: string, name: string, allowForward: boolean): Promise<Location>;
  /** Drops a remembered owner after a forward to it failed or was refused. */
  forget(group: string, name: string): void;
}

/** How long a non-owner trusts a remembered owner, saving a Redis round trip per forward. */
const OWNER_CACHE_MS = 1000;
/**
 * Owners remembered beyond that, as a last resort while Redis is away: an owner keeps serving its
 * instances without Redis, so a forward to it still works through a reconnect or a Sentinel
 * failover (if it moved meanwhile, the old owner answers a retriable 503). The oldest go first.
 */
const REMEMBERED_OWNERS = 10_000;

export function createLocator(nodeId: string, directory: InstanceDirectory, host: ConsumerHost): Locator {
  const adopting = new Map<string, Promise<Location>>();
  const owners = new Map<string, { address: string; until: number }>();
  const remember = (k: string, address: string) => {
    owners.delete(k);
    owners.set(k, { address, until: Date.now() + OWNER_CACHE_MS });
    if (owners.size > REMEMBERED_OWNERS) owners.delete(owners.keys().next().value as string);
  };

  const adopt = async (group: string, name: string): Promise<Location> => {
    // A lease taken by a node the directory does not list yet could be taken again at once.
    await host.registered();
    const result = await directory.adopt(nodeId, group, name);
    if ("gone" in result) {
      if (directory.recovering())
        throw serviceUnavailable("Consumer directory is recovering after a Redis restart; retry.");
      throw consumerInstanceNotFound();
    }
    if ("ownedBy" in result) throw serviceUnavailable("Consumer instance is moving between nodes; retry.");
    return { local: await host.adopt(result.adopted) };
  };

  const directoryFailure = (error: unknown): never => {
    if (error instanceof Error && "status" in error) throw error;
    throw serviceUnavailable(`Consumer directory unavailable: ${(error as Error).message}`);
  };

  return {
    async locate(group, name, allowForward) {
      const local = host.get(group, name);
      if (local && !local.closed) return { local };
      if (host.draining) throw serviceUnavailable("This node is shutting down; retry.");
      if (!directory.distributed) throw consumerInstanceNotFound();
      const k = `${group}\u0000${name}`;
      const cached = allowForward ? owners.get(k) : undefined;
      if (cached && cached.until > Date.now()) return { remote: cached.address };
      if (directory.unavailableReason()) {
        if (cached) return { remote: cached.address };
        const unavailable = await directory.whenAvailable();
        if (unavailable)
          throw serviceUnavailable(`${unavailable}: consumer requests cannot be routed until it returns.`);
      }

      let location: Awaited<ReturnType<InstanceDirectory["lookup"]>>;
      try {
        location = await directory.lookup(group, name);
      } catch (error) {
        // The connection dropped under the lookup (a primary that just died): as above.
        if (cached) return { remote: cached.address };
        return directoryFailure(error);
      }
      if (!location) {
        if (directory.recovering())
          throw serviceUnavailable("Consumer directory is recovering after a Redis restart; retry.");
        throw consumerInstanceNotFound();
      }
      const { leaseOwner, ownerAddress } = location;
      if (leaseOwner && leaseOwner !== nodeId && ownerAddress) {
        if (allowForward) {
          remember(k, ownerAddress);
          return { remote: ownerAddress };
        }
        throw serviceUnavailable("Consumer instance is owned by another node; retry.");
      }
      // Right after Redis came back, a lapsed lease or a missing node key may only mean that the
      // owner could not renew while Redis was away (a failover longer than the lease): its next
      // renewal restores them. Adopting now would move a live instance.
      if (leaseOwner !== nodeId && directory.recovering())
        throw serviceUnavailable("Consumer directory is recovering after a Redis restart; retry.");
      // The lease lapsed, its owner is no longer a live node, or it names this node (restarted).
      let pending = adopting.get(k);
      if (!pending) {
        pending = adopt(group, name)
          .catch(directoryFailure)
          .finally(() => adopting.delete(k));
        adopting.set(k, pending);
      }
      const adopted = await pending;
      if ("remote" in adopted && !allowForward) throw serviceUnavailable("Consumer instance is moving; retry.");
      return adopted;
    },

    forget(group, name) {
      owners.delete(`${group}\u0000${name}`);
    },
  };
}
