/**
 * How to reach Redis, validated once with the rest of the configuration. Three forms, exactly one
 * of them: a single server (`redis.url`), a primary found through Redis Sentinel
 * (`redis.sentinels` + `redis.master.name`), or a Redis Cluster (`redis.cluster.nodes`).
 * Everything downstream asks `config.redis` whether Redis is configured, never one form's key.
 */

export interface RedisAddress {
  host: string;
  port: number;
}

export type RedisConnection =
  | { kind: "standalone"; url: string }
  | {
      kind: "sentinel";
      sentinels: RedisAddress[];
      masterName: string;
      /** AUTH for the primary and replicas the sentinels name. */
      password: string | null;
      /** AUTH for the sentinels themselves (they keep their own requirepass). */
      sentinelPassword: string | null;
    }
  | { kind: "cluster"; nodes: RedisAddress[]; password: string | null };

export const redisKeys = [
  "redis.url",
  "redis.sentinels",
  "redis.master.name",
  "redis.sentinel.password",
  "redis.password",
  "redis.cluster.nodes",
  "redis.wait.ms",
] as const;

/** `host:port` or `[v6]:port`; null when it is neither. */
export function parseAddress(raw: string): RedisAddress | null {
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(raw.trim());
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (match[1] ?? match[2]) as string, port };
}

function addressList(key: string, raw: string, problems: string[]): RedisAddress[] {
  const entries = raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const addresses: RedisAddress[] = [];
  for (const entry of entries) {
    const address = parseAddress(entry);
    if (address) addresses.push(address);
    else problems.push(`"${key}" must be a comma list of host:port, got "${entry}"`);
  }
  if (entries.length === 0) problems.push(`"${key}" must name at least one host:port`);
  return addresses;
}

export function parseRedis(props: Record<string, string>, problems: string[]): RedisConnection | null {
  const get = (key: string) => (props[key] === undefined || props[key] === "" ? null : (props[key] as string));
  const url = get("redis.url");
  const sentinels = get("redis.sentinels");
  const clusterNodes = get("redis.cluster.nodes");
  const masterName = get("redis.master.name");
  const password = get("redis.password");
  const sentinelPassword = get("redis.sentinel.password");

  const forms = [url && "redis.url", sentinels && "redis.sentinels", clusterNodes && "redis.cluster.nodes"].filter(
    (f): f is string => typeof f === "string",
  );
  if (forms.length > 1) {
    problems.push(`set only one of "redis.url", "redis.sentinels" and "redis.cluster.nodes", got ${forms.join(", ")}`);
    return null;
  }
  if (!sentinels && masterName) problems.push('"redis.master.name" applies only with "redis.sentinels"');
  if (!sentinels && sentinelPassword) problems.push('"redis.sentinel.password" applies only with "redis.sentinels"');
  if (url && password) problems.push('"redis.password" does not apply to "redis.url": put it in the URL');

  if (url) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") throw new Error("not redis://");
      return { kind: "standalone", url: parsed.toString().replace(/\/$/, "") };
    } catch {
      // The URL may hold a password: never echo it.
      problems.push('"redis.url" must be a redis:// or rediss:// URL');
      return null;
    }
  }
  if (sentinels) {
    if (!masterName) problems.push('"redis.master.name" is required with "redis.sentinels" (the monitored primary)');
    return {
      kind: "sentinel",
      sentinels: addressList("redis.sentinels", sentinels, problems),
      masterName: masterName ?? "",
      password,
      sentinelPassword,
    };
  }
  if (clusterNodes) {
    return { kind: "cluster", nodes: addressList("redis.cluster.nodes", clusterNodes, problems), password };
  }
  if (password) problems.push('"redis.password" needs "redis.sentinels" or "redis.cluster.nodes"');
  return null;
}

/** For messages: which setting configured Redis. */
export function redisSettingName(connection: RedisConnection): string {
  if (connection.kind === "standalone") return "redis.url";
  return connection.kind === "sentinel" ? "redis.sentinels" : "redis.cluster.nodes";
}
