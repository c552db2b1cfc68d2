import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig, parseProperties, propertiesFromEnv } from "./config.ts";

const base = { "bootstrap.servers": "kafka:9092" };

function problems(props: Record<string, string>): string {
  try {
    parseConfig(props);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("fills REST Proxy's defaults", () => {
    const config = parseConfig(base);
    expect(config.bootstrapServers).toBe("kafka:9092");
    expect(config.listener).toEqual({ host: "0.0.0.0", port: 8082 });
    expect(config.produce.maxRecordsPerRequest).toBe(10_000);
    expect(config.http.maxBodyBytes).toBe(16 * 1024 * 1024);
    expect(config.consumer).toMatchObject({
      requestTimeoutMs: 1000,
      instanceTimeoutMs: 300_000,
      maxResponseBytes: 67_108_864,
    });
    expect(config.kafka).toEqual({ client: {}, producer: {}, consumer: {}, admin: {} });
    expect(config.internalListener).toBeNull();
    expect(config.redisUrl).toBeNull();
  });

  it("sends a lone record at once unless produce.idle.flush.ms is 0, and bounds that flush", () => {
    expect(parseConfig(base).produce.idleFlushMs).toBe(1);
    expect(parseConfig({ ...base, "produce.idle.flush.ms": "0" }).produce.idleFlushMs).toBe(0);
    expect(problems({ ...base, "produce.idle.flush.ms": "-1" })).toContain("produce.idle.flush.ms");
    expect(problems({ ...base, "produce.idle.flush.ms": "5000" })).toContain("produce.idle.flush.ms");
  });

  it("reads Confluent's names", () => {
    const config = parseConfig({
      ...base,
      id: "node-7",
      listeners: "http://127.0.0.1:9000,http://0.0.0.0:9001",
      "consumer.request.timeout.ms": "250",
      "consumer.instance.timeout.ms": "60000",
      "consumer.request.max.bytes": "1048576",
    });
    expect(config.id).toBe("node-7");
    // REST Proxy takes a list; Wharf serves the first.
    expect(config.listener).toEqual({ host: "127.0.0.1", port: 9000 });
    expect(config.consumer).toMatchObject({
      requestTimeoutMs: 250,
      instanceTimeoutMs: 60_000,
      maxResponseBytes: 1_048_576,
    });
  });

  it("passes client., producer., consumer. and admin. properties through to librdkafka, prefix removed", () => {
    const config = parseConfig({
      ...base,
      "client.security.protocol": "SASL_SSL",
      "producer.linger.ms": "5",
      "producer.compression.type": "zstd",
      "consumer.fetch.min.bytes": "1",
      "admin.request.timeout.ms": "9000",
    });
    expect(config.kafka).toEqual({
      client: { "security.protocol": "SASL_SSL" },
      producer: { "linger.ms": "5", "compression.type": "zstd" },
      consumer: { "fetch.min.bytes": "1" },
      admin: { "request.timeout.ms": "9000" },
    });
  });

  it("drops Java-only properties that librdkafka would refuse", () => {
    const config = parseConfig({
      ...base,
      "producer.key.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer",
      "consumer.value.deserializer": "x",
      "client.schema.registry.url": "http://sr:8081",
    });
    expect(config.kafka).toEqual({ client: {}, producer: {}, consumer: {}, admin: {} });
  });

  it("refuses unknown keys by name, so a typo does not pass silently", () => {
    const message = problems({ ...base, "request.max.byte": "10", "produce.pool.sise": "2" });
    expect(message).toContain('unknown setting "request.max.byte"');
    expect(message).toContain('unknown setting "produce.pool.sise"');
  });

  it.each([
    ["request.max.bytes", "lots", '"request.max.bytes" must be an integer between 1024'],
    ["request.max.bytes", "100", '"request.max.bytes" must be an integer between 1024'],
    ["produce.pool.size", "65", '"produce.pool.size" must be an integer between 1 and 64, got "65"'],
    ["produce.max.records.per.request", "1.5", '"produce.max.records.per.request" must be an integer'],
    ["consumer.request.timeout.ms", "-1", '"consumer.request.timeout.ms" must be an integer between 0 and 300000'],
  ])("refuses %s=%s with a clear message", (key, value, expected) => {
    expect(problems({ ...base, [key]: value })).toContain(expected);
  });

  it("keeps Idempotency-Key answers a day by default and validates its settings", () => {
    expect(parseConfig(base).idempotency).toEqual({
      ttlMs: 86_400_000,
      waitMs: 10_000,
      memoryMaxBytes: 64 * 1024 * 1024,
      recovery: { maxRecords: 1_000_000, timeoutMs: 5000, clockSkewMs: 60_000 },
      leaseMs: 10_000,
      settleMs: 33_000,
      minReplicas: 0,
    });
    expect(
      parseConfig({ ...base, "idempotency.ttl.ms": "60000", "idempotency.wait.ms": "0" }).idempotency,
    ).toMatchObject({ ttlMs: 60_000, waitMs: 0 });
    expect(parseConfig({ ...base, "idempotency.recovery.max.records": "10" }).idempotency.recovery.maxRecords).toBe(10);
    expect(
      parseConfig({ ...base, "idempotency.recovery.clock.skew.ms": "2000" }).idempotency.recovery.clockSkewMs,
    ).toBe(2000);
    expect(problems({ ...base, "idempotency.recovery.timeout.ms": "50" })).toContain(
      '"idempotency.recovery.timeout.ms" must be an integer between 100',
    );
    const message = problems({ ...base, "idempotency.ttl.ms": "0", "idempotency.wait.ms": "soon" });
    expect(message).toContain('"idempotency.ttl.ms" must be an integer between 1000');
    expect(message).toContain('"idempotency.wait.ms" must be an integer');
  });

  it("holds a claim for the producer's message timeout beyond its lease, and waits for replicas with Sentinel", () => {
    const cluster = { "internal.listener": "http://127.0.0.1:0", "cluster.secret": "s" };
    const sentinel = { ...base, ...cluster, "redis.sentinels": "127.0.0.1:26379", "redis.master.name": "m" };
    expect(parseConfig(sentinel).idempotency.minReplicas).toBe("connected");
    expect(parseConfig({ ...sentinel, "idempotency.redis.min.replicas": "1" }).idempotency.minReplicas).toBe(1);
    expect(
      parseConfig({ ...base, ...cluster, "redis.url": "redis://r:6379", "idempotency.redis.min.replicas": "connected" })
        .idempotency.minReplicas,
    ).toBe("connected");
    expect(
      problems({
        ...base,
        ...cluster,
        "redis.cluster.nodes": "127.0.0.1:7000",
        "idempotency.redis.min.replicas": "connected",
      }),
    ).toContain('"idempotency.redis.min.replicas=connected" is not supported with "redis.cluster.nodes"');
    expect(problems({ ...base, "idempotency.redis.min.replicas": "connected" })).toContain(
      '"idempotency.redis.min.replicas" needs Redis',
    );
    expect(problems({ ...sentinel, "idempotency.redis.min.replicas": "all" })).toContain(
      '"idempotency.redis.min.replicas" must be "connected" or an integer between 0 and 16, got "all"',
    );
    expect(parseConfig({ ...sentinel, "idempotency.redis.min.replicas": "0" }).idempotency.minReplicas).toBe(0);
    expect(parseConfig({ ...base, ...cluster, "redis.url": "redis://r:6379" }).idempotency.minReplicas).toBe(0);
    expect(
      parseConfig({ ...base, ...cluster, "redis.url": "redis://r:6379", "idempotency.redis.min.replicas": "2" })
        .idempotency.minReplicas,
    ).toBe(2);
    expect(problems({ ...base, "idempotency.redis.min.replicas": "1" })).toContain(
      '"idempotency.redis.min.replicas" needs Redis',
    );
    expect(problems({ ...base, "idempotency.redis.min.replicas": "-1" })).toContain(
      '"idempotency.redis.min.replicas" must be "connected" or an integer between 0 and 16',
    );
    const lowered = parseConfig({ ...base, "producer.message.timeout.ms": "5000", "idempotency.lease.ms": "2000" });
    expect(lowered.idempotency).toMatchObject({ leaseMs: 2000, settleMs: 8000 });
    expect(parseConfig({ ...base, "client.delivery.timeout.ms": "7000" }).idempotency.settleMs).toBe(10_000);
    expect(problems({ ...base, "producer.message.timeout.ms": "0" })).toContain(
      '"producer.message.timeout.ms" must be a positive integer',
    );
    expect(problems({ ...base, "idempotency.lease.ms": "100" })).toContain(
      '"idempotency.lease.ms" must be an integer between 500',
    );
  });

  it("reports every problem at once", () => {
    const message = problems({ "log.level": "loud", listeners: "ftp://0.0.0.0:1", "redis.url": "redis://r:6379" });
    expect(message).toContain('"bootstrap.servers" is required');
    expect(message).toContain('"log.level" must be debug, info, warn or error');
    expect(message).toContain('"listeners" must be a URL like http://0.0.0.0:8082');
    expect(message).toContain('"internal.listener" is required when "redis.url" is set');
    expect(message).toContain('"cluster.secret" is required when "redis.url" is set');
  });

  it("accepts a cluster configuration", () => {
    const config = parseConfig({
      ...base,
      "redis.url": "redis://redis:6379",
      "internal.listener": "http://0.0.0.0:8083",
      "cluster.secret": "s3cret",
    });
    expect(config.internalListener).toEqual({ host: "0.0.0.0", port: 8083 });
    expect(config.clusterSecret).toBe("s3cret");
    expect(config.redisUrl).toBe("redis://redis:6379");
  });
});

describe("propertiesFromEnv", () => {
  it("maps WHARF_FOO_BAR and KAFKA_REST_FOO_BAR to foo.bar, WHARF_ winning", () => {
    expect(
      propertiesFromEnv({
        WHARF_BOOTSTRAP_SERVERS: "a:9092",
        KAFKA_REST_BOOTSTRAP_SERVERS: "b:9092",
        KAFKA_REST_CONSUMER_REQUEST_TIMEOUT_MS: "500",
        WHARF_PRODUCER_LINGER_MS: "3",
        PATH: "/usr/bin",
        HOME: "/root",
      }),
    ).toEqual({ "bootstrap.servers": "a:9092", "consumer.request.timeout.ms": "500", "producer.linger.ms": "3" });
  });

  it("ignores the variables deploy/env.sh sets for Wharf's scripts", () => {
    expect(propertiesFromEnv({ WHARF_TOOLS: "/t", WHARF_NODE_DIR: "/n", WHARF_KAFKA_VERSION: "4" })).toEqual({});
  });
});

describe("parseProperties", () => {
  it("reads Java properties: =, : or space, comments, blank lines, CRLF", () => {
    const text = [
      "# a comment",
      "! another",
      "",
      "bootstrap.servers=kafka:9092",
      "id : node-1\r",
      "producer.linger.ms 5",
      "  listeners = http://0.0.0.0:8082  ",
      "client.sasl.jaas.config=a=b c=d",
    ].join("\n");
    expect(parseProperties(text)).toEqual({
      "bootstrap.servers": "kafka:9092",
      id: "node-1",
      "producer.linger.ms": "5",
      listeners: "http://0.0.0.0:8082",
      "client.sasl.jaas.config": "a=b c=d",
    });
  });

  it("refuses a line it cannot read", () => {
    expect(() => parseProperties("=value")).toThrow(ConfigError);
  });
});

describe("loadConfig", () => {
  it("reads the file named by config.file, and the environment overrides it", () => {
    const dir = mkdtempSync(join(tmpdir(), "wharf-config-"));
    try {
      const file = join(dir, "wharf.properties");
      writeFileSync(file, "bootstrap.servers=file:9092\nid=from-file\nproducer.linger.ms=9\n");
      const config = loadConfig({ WHARF_CONFIG_FILE: file, KAFKA_REST_ID: "from-env" });
      expect(config.bootstrapServers).toBe("file:9092");
      expect(config.id).toBe("from-env");
      expect(config.kafka.producer).toEqual({ "linger.ms": "9" });
      expect(() => loadConfig({}, join(dir, "missing.properties"))).toThrow(/cannot read config file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
