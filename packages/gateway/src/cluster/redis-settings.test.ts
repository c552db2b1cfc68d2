import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../config.ts";
import { parseAddress } from "./redis-settings.ts";

const cluster = {
  "bootstrap.servers": "kafka:9092",
  "internal.listener": "http://0.0.0.0:8083",
  "cluster.secret": "s3cret",
};

function problems(props: Record<string, string>): string {
  try {
    parseConfig(props);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("redis settings", () => {
  it("reads a single server from redis.url", () => {
    const config = parseConfig({ ...cluster, "redis.url": "redis://:pw@redis:6379/2" });
    expect(config.redis).toEqual({ kind: "standalone", url: "redis://:pw@redis:6379/2" });
    expect(config.redisUrl).toBe("redis://:pw@redis:6379/2");
  });

  it("reads sentinels, the master name and both passwords", () => {
    const config = parseConfig({
      ...cluster,
      "redis.sentinels": "s1:26379, s2:26380,[::1]:26381",
      "redis.master.name": "wharf",
      "redis.password": "primary-pw",
      "redis.sentinel.password": "sentinel-pw",
    });
    expect(config.redis).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
        { host: "::1", port: 26381 },
      ],
      masterName: "wharf",
      password: "primary-pw",
      sentinelPassword: "sentinel-pw",
    });
    expect(config.redisUrl).toBeNull();
  });

  it("reads a Redis Cluster node list", () => {
    const config = parseConfig({ ...cluster, "redis.cluster.nodes": "r1:7000,r2:7001" });
    expect(config.redis).toEqual({
      kind: "cluster",
      nodes: [
        { host: "r1", port: 7000 },
        { host: "r2", port: 7001 },
      ],
      password: null,
    });
  });

  it("accepts exactly one of the three forms", () => {
    const message = problems({ ...cluster, "redis.url": "redis://r:6379", "redis.cluster.nodes": "r1:7000" });
    expect(message).toContain('set only one of "redis.url", "redis.sentinels" and "redis.cluster.nodes"');
    expect(
      problems({ ...cluster, "redis.sentinels": "s1:26379", "redis.master.name": "m", "redis.cluster.nodes": "r:1" }),
    ).toContain("set only one of");
  });

  it("requires the master name with sentinels, and sentinel settings only with sentinels", () => {
    expect(problems({ ...cluster, "redis.sentinels": "s1:26379" })).toContain('"redis.master.name" is required');
    expect(problems({ ...cluster, "redis.master.name": "m" })).toContain(
      '"redis.master.name" applies only with "redis.sentinels"',
    );
    expect(problems({ ...cluster, "redis.url": "redis://r:1", "redis.sentinel.password": "x" })).toContain(
      '"redis.sentinel.password" applies only with "redis.sentinels"',
    );
    expect(problems({ ...cluster, "redis.url": "redis://r:1", "redis.password": "x" })).toContain("put it in the URL");
  });

  it("refuses malformed addresses and URLs without echoing a URL", () => {
    const message = problems({ ...cluster, "redis.cluster.nodes": "r1:7000,r2,r3:99999" });
    expect(message).toContain('"redis.cluster.nodes" must be a comma list of host:port, got "r2"');
    expect(message).toContain('got "r3:99999"');
    const url = problems({ ...cluster, "redis.url": "http://user:hunter2@r:1" });
    expect(url).toContain('"redis.url" must be a redis:// or rediss:// URL');
    expect(url).not.toContain("hunter2");
  });

  it("needs the internal listener and cluster secret with every form", () => {
    for (const [key, extra] of [
      ["redis.url", { "redis.url": "redis://r:6379" }],
      ["redis.sentinels", { "redis.sentinels": "s:26379", "redis.master.name": "m" }],
      ["redis.cluster.nodes", { "redis.cluster.nodes": "r:7000" }],
    ] as const) {
      const message = problems({ "bootstrap.servers": "kafka:9092", ...extra });
      expect(message).toContain(`"internal.listener" is required when "${key}" is set`);
      expect(message).toContain(`"cluster.secret" is required when "${key}" is set`);
    }
  });

  it("parses host:port forms", () => {
    expect(parseAddress("127.0.0.1:6379")).toEqual({ host: "127.0.0.1", port: 6379 });
    expect(parseAddress("[fe80::1]:1")).toEqual({ host: "fe80::1", port: 1 });
    expect(parseAddress("host")).toBeNull();
    expect(parseAddress("host:0")).toBeNull();
    expect(parseAddress("a:b:1")).toBeNull();
  });
});
