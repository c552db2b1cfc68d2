/**
 * How many replicas the idempotency store's Redis primary has online, for
 * idempotency.redis.min.replicas=connected: claims, renewals and answers WAIT for that many, so a
 * failover that leaves the new primary without a replica does not stall keyed produce, while a
 * replica that is connected but lags still makes WAIT come back short (and the claim refused).
 *
 * Read with INFO replication on the store's own client (the primary it writes to, not one a
 * sentinel names), in the background: about every second, at once after every (re)connect (a
 * Sentinel failover followed is one), and when a WAIT came back short. A request never pays a
 * round trip for it, except right after a reconnect: it then waits for the reading already under
 * way, sent on the connection ahead of its own commands, rather than WAIT for the replicas of the
 * primary before.
 */
import { withDeadline } from "../../deadline.ts";
import type { Logger } from "../../log.ts";

/** What the tracker needs of an ioredis client. */
export interface ReplicationSource {
  readonly status: string;
  on(event: "ready", listener: () => void): unknown;
  off(event: "ready", listener: () => void): unknown;
  info(section: "replication"): Promise<string>;
}

export interface ReplicaCount {
  /** Replicas to WAIT for now: the last count read, or the reading under way after a reconnect. */
  wanted(): number | Promise<number>;
  /** A WAIT came back short of wanted(): read again now, in the background. */
  stale(): void;
  close(): void;
}

export interface ReplicaCountOptions {
  intervalMs?: number;
  /** One INFO's deadline. */
  timeoutMs?: number;
  log: Logger;
  /** Each count read (a gauge). */
  onCount?: (replicas: number) => void;
}

/**
 * Waited for while no count could be read at all (INFO refused, say by an ACL): the conservative
 * choice, as a Sentinel deployment starts with a replica.
 */
export const UNKNOWN_REPLICAS = 1;

/** Replicas listed `state=online` by INFO replication (ones still syncing confirm no WAIT yet). */
export function onlineReplicas(info: string): number {
  if (!/^role:master\s*$/m.test(info)) return 0;
  return (info.match(/^slave\d+:.*\bstate=online\b/gm) ?? []).length;
}

export function trackConnectedReplicas(
  source: ReplicationSource,
  { intervalMs = 1000, timeoutMs = 1000, log, onCount = () => {} }: ReplicaCountOptions,
): ReplicaCount {
  let count: number | null = null;
  let reading: Promise<void> | null = null;
  /** The reading requests wait for, after a (re)connect. */
  let afterConnect: Promise<number> | null = null;
  let warned = false;

  /** Counts each (re)connect: a reading sent on an earlier connection counts for nothing. */
  let connection = 0;

  const read = (): Promise<void> => {
    if (reading) return reading;
    if (source.status !== "ready") return Promise.resolve();
    const of = connection;
    const current: Promise<void> = withDeadline(source.info("replication"), timeoutMs, "Redis INFO replication")
      .then((info) => {
        if (of !== connection) return;
        count = onlineReplicas(info);
        warned = false;
        onCount(count);
      })
      .catch((error: Error) => {
        if (!warned && of === connection) {
          log.warn("cannot read the Redis primary's replicas; WAIT keeps the last count", {
            error: error.message,
            replicas: count ?? UNKNOWN_REPLICAS,
          });
          warned = true;
        }
      })
      .finally(() => {
        if (reading === current) reading = null;
      });
    reading = current;
    return current;
  };

  const onReady = () => {
    connection++;
    reading = null;
    const settled = read().then(() => count ?? UNKNOWN_REPLICAS);
    afterConnect = settled;
    void settled.then(() => {
      if (afterConnect === settled) afterConnect = null;
    });
  };
  source.on("ready", onReady);
  if (source.status === "ready") onReady();
  const timer = setInterval(() => void read(), intervalMs);
  timer.unref();

  return {
    wanted: () => afterConnect ?? count ?? UNKNOWN_REPLICAS,
    stale: () => void read(),
    close: () => {
      clearInterval(timer);
      source.off("ready", onReady);
    },
  };
}
