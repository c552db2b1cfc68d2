/**
 * Configuration: read once at start-up from a properties file (Confluent's `key=value` format) and
 * the environment, validated into a typed object. Nothing downstream reads the environment.
 *
 * Keys use Confluent's names where one exists (bootstrap.servers, id, listeners, producer.*,
 * consumer.*, admin.*, client.*, consumer.request.timeout.ms...), so a REST Proxy config works.
 * Environment: WHARF_FOO_BAR or KAFKA_REST_FOO_BAR sets `foo.bar` (WHARF_ wins).
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parseRedis, type RedisConnection, redisKeys, redisSettingName } from "./cluster/redis-settings.ts";
import { oauthbearerProblem } from "./kafka/admin-security.ts";
import { parseSchemaRegistry, type SchemaRegistryConfig, schemaRegistryKeys } from "./schemas/settings.ts";
import type { SecurityConfig } from "./security/index.ts";
import { parseSecurity, securityKeys } from "./security/settings.ts";

export interface Listener {
  host: string;
  port: number;
  /** TLS with the ssl.* settings (public listener only). */
  https?: boolean;
}

export interface GatewayConfig {
  id: string;
  listener: Listener;
  /** Node-to-node port for forwarded consumer requests; null on a lone node without Redis. */
  internalListener: Listener | null;
  /** URL other nodes use to reach the internal listener (pod IP in Kubernetes). */
  internalAdvertisedUrl: string | null;
  /** Base of URLs handed to clients (base_uri, v3 metadata.self); null derives it from the request. */
  publicUrl: string | null;
  clusterSecret: string | null;
  /** Where Redis is (one server, Sentinel or Cluster); null on a lone node that keeps state in memory. */
  redis: RedisConnection | null;
  /** `redis.url` when Redis is a single server (kept for readers of that one form); null otherwise. */
  redisUrl: string | null;
  /**
   * How long a request that needs Redis waits for its connection to come back (a reconnect, a
   * Sentinel failover) before it is refused with a retriable 503.
   */
  redisWaitMs: number;
  bootstrapServers: string;
  /** librdkafka properties for every client, then per kind (pass-through of client.*, producer.*...). */
  kafka: {
    client: Record<string, string>;
    producer: Record<string, string>;
    consumer: Record<string, string>;
    admin: Record<string, string>;
  };
  produce: {
    poolSize: number;
    maxRecordsPerRequest: number;
    /** Admission limits: a request that would exceed them is refused with 429 before anything is queued. */
    maxInflightRecords: number;
    maxInflightBytes: number;
    /**
     * A record that reaches an idle producer is sent at once (a bounded flush) instead of waiting
     * linger.ms; this is how long such a flush may run, i.e. how long linger.ms is suspended (all
     * records sent meanwhile go at once too). 0 keeps linger.ms for every record.
     */
    idleFlushMs: number;
  };
  consumer: {
    requestTimeoutMs: number;
    instanceTimeoutMs: number;
    maxResponseBytes: number;
    prefetchMaxBytes: number;
    /**
     * Most bytes an instance read by a client in a loop takes from librdkafka ahead of the next
     * read (bounded by that client's max_bytes); 0 reads only when asked.
     */
    readAheadMaxBytes: number;
    /** An instance nobody read for this long stops fetching (its prefetch is freed); 0 never. */
    idlePauseMs: number;
  };
  cluster: {
    heartbeatMs: number;
    nodeTtlMs: number;
    leaseTtlMs: number;
  };
  http: {
    maxBodyBytes: number;
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Largest request head (request line and headers); larger ones get 431 before hono runs. */
    maxHeaderBytes: number;
  };
  /** Idempotency-Key on produce (src/http/idempotency). */
  idempotency: {
    /** How long a first answer is replayed to requests with the same key. */
    ttlMs: number;
    /** How long a repeat waits for a first request still in flight before it gets 409. */
    waitMs: number;
    /** Bound of the in-memory store (no redis.url); the oldest answers are evicted first. */
    memoryMaxBytes: number;
    /**
     * Bounds of the look into Kafka for what an orphaned claim's holder wrote (records read, and
     * time); past either the retry is refused as retriable rather than risk a duplicate.
     */
    recovery: { maxRecords: number; timeoutMs: number; clockSkewMs: number };
    /**
     * How long a keyed request may write after its claim was last renewed; it renews every third
     * of this and writes nothing to Kafka once it cannot show its claim is still its own.
     */
    leaseMs: number;
    /**
     * How much longer than leaseMs a claim stays held in the store before another node may take it
     * over: the producer's message timeout and a margin, so records a paused holder had already
     * handed to librdkafka are delivered or failed before a retry looks for them (middleware.ts).
     */
    settleMs: number;
    /**
     * Redis replicas that must confirm a claim (WAIT) before its records are written, so that a
     * failover cannot lose it: a number is "at least that many, refuse otherwise"; "connected" is
     * "every replica the primary has online now" (none: no WAIT), so that a failover that leaves
     * the new primary without a replica does not stall keyed produce. 0 with the memory store.
     */
    minReplicas: number | "connected";
  };
  /** TLS, authentication, authorization and rate limits of the public listener (src/security). */
  security: SecurityConfig;
  /** Where the Schema Registry is, for the avro, jsonschema and protobuf formats; null without one. */
  schemaRegistry: SchemaRegistryConfig | null;
  /** Server-Sent Events streams of consumer instances and topics. */
  stream: {
    /** A comment line at least this often keeps idle streams (and proxies between) alive. */
    heartbeatMs: number;
    /** A reader that accepts no bytes for this long while events wait is told so and dropped. */
    slowReaderTimeoutMs: number;
    /** Most record bytes one stream takes from Kafka at a time: its buffer bound. */
    batchMaxBytes: number;
    /** Streams this node serves at once; more are refused with 429. */
    maxOpen: number;
  };
  shutdownTimeoutMs: number;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** The producer's message.timeout.ms as librdkafka-config.ts sets it, unless producer.* / client.* override it. */
export const DEFAULT_MESSAGE_TIMEOUT_MS = 30_000;
/**
 * Beyond the message timeout: librdkafka times queued records out in a scan once a second, and a
 * request it sent just before may still be appended and replicated a moment later.
 */
const SETTLE_MARGIN_MS = 3000;

function idempotencySettleMs(kafka: GatewayConfig["kafka"], problems: string[]): number {
  const props = { ...kafka.client, ...kafka.producer };
  const raw = props["message.timeout.ms"] ?? props["delivery.timeout.ms"];
  if (raw === undefined) return DEFAULT_MESSAGE_TIMEOUT_MS + SETTLE_MARGIN_MS;
  const value = Number(raw);
  // 0 is librdkafka's "never time out": a paused node's queued records would have no end, so no
  // retry could ever safely take its Idempotency-Key claim over.
  if (!Number.isInteger(value) || value <= 0) {
    problems.push(
      `"producer.message.timeout.ms" must be a positive integer (Idempotency-Key takeover waits for it), got "${raw}"`,
    );
    return DEFAULT_MESSAGE_TIMEOUT_MS + SETTLE_MARGIN_MS;
  }
  return value + SETTLE_MARGIN_MS;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Wharf's own keys; anything else must be a pass-through prefix or it is a typo. */
const knownKeys = new Set([
  "id",
  "listeners",
  "internal.listener",
  "internal.advertised.url",
  "public.url",
  "cluster.secret",
  ...redisKeys,
  "bootstrap.servers",
  "produce.pool.size",
  "produce.max.records.per.request",
  "produce.max.inflight.records",
  "produce.max.inflight.bytes",
  "produce.idle.flush.ms",
  "consumer.request.timeout.ms",
  "consumer.instance.timeout.ms",
  "consumer.request.max.bytes",
  "consumer.prefetch.max.bytes",
  "consumer.read.ahead.max.bytes",
  "consumer.idle.pause.ms",
  "cluster.heartbeat.ms",
  "cluster.node.ttl.ms",
  "cluster.lease.ttl.ms",
  "request.max.bytes",
  "request.timeout.ms",
  "request.headers.timeout.ms",
  "keepalive.timeout.ms",
  "shutdown.timeout.ms",
  "stream.heartbeat.ms",
  "stream.slow.reader.timeout.ms",
  "stream.batch.max.bytes",
  "stream.max.open",
  "log.level",
  "config.file",
  "request.max.header.bytes",
  "idempotency.ttl.ms",
  "idempotency.wait.ms",
  "idempotency.memory.max.bytes",
  "idempotency.recovery.max.records",
  "idempotency.recovery.timeout.ms",
  "idempotency.recovery.clock.skew.ms",
  "idempotency.lease.ms",
  "idempotency.redis.min.replicas",
  ...securityKeys,
  ...schemaRegistryKeys,
]);
const passThroughPrefixes = ["client.", "producer.", "consumer.", "admin."] as const;

/**
 * idempotency.redis.min.replicas: "connected" or an integer. A Sentinel deployment has a replica
 * to fail over to by definition, but after a failover there is none until the old primary is back:
 * "connected" waits for the ones there are. A Redis Cluster may have none, and a lone Redis has
 * none to wait for. "connected" is not offered for a Cluster: it would need each key's node's
 * replicas, and the store learns them from one connection.
 */
function minReplicas(
  props: Record<string, string | undefined>,
  redis: RedisConnection | null,
  problems: string[],
): number | "connected" {
  const key = "idempotency.redis.min.replicas";
  const raw = props[key]?.trim();
  if (raw === undefined || raw === "") return redis?.kind === "sentinel" ? "connected" : 0;
  if (raw === "connected") {
    if (redis?.kind === "cluster")
      problems.push(`"${key}=connected" is not supported with "redis.cluster.nodes": use a number`);
    return "connected";
  }
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 16) {
    problems.push(`"${key}" must be "connected" or an integer between 0 and 16, got "${raw}"`);
    return 0;
  }
  return value;
}

/** Properties from Confluent's Java client that have no librdkafka meaning: accepted and ignored. */
const javaOnlyProperties = new Set([
  "key.serializer",
  "value.serializer",
  "key.deserializer",
  "value.deserializer",
  "schema.registry.url",
]);

export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const match = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!match) throw new ConfigError(`cannot parse config line: ${line}`);
    out[match[1] as string] = (match[2] as string).trim();
  }
  return out;
}

/** Variables that deploy/env.sh sets for Wharf's own scripts; they are not gateway settings. */
const scriptVariables = new Set(["tools", "node.dir", "kafka.libs", "kafka.version", "python"]);

/** Maps WHARF_FOO_BAR / KAFKA_REST_FOO_BAR to foo.bar. */
export function propertiesFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const fromConfluent: Record<string, string> = {};
  const fromWharf: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    for (const [prefix, target] of [
      ["KAFKA_REST_", fromConfluent],
      ["WHARF_", fromWharf],
    ] as const) {
      if (!name.startsWith(prefix)) continue;
      const key = name.slice(prefix.length).toLowerCase().replaceAll("_", ".");
      if (!scriptVariables.has(key)) target[key] = value;
    }
  }
  return { ...fromConfluent, ...fromWharf };
}

/** Reads the file named by config.file (env) or `configFile`, then lets the environment override it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, configFile?: string): GatewayConfig {
  const fromEnv = propertiesFromEnv(env);
  const file = configFile ?? fromEnv["config.file"];
  let fromFile: Record<string, string> = {};
  if (file) {
    try {
      fromFile = parseProperties(readFileSync(file, "utf8"));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
    }
  }
  return parseConfig({ ...fromFile, ...fromEnv });
}

export function parseConfig(props: Record<string, string>): GatewayConfig {
  const problems: string[] = [];
  const kafka: GatewayConfig["kafka"] = { client: {}, producer: {}, consumer: {}, admin: {} };
  for (const [key, value] of Object.entries(props)) {
    if (knownKeys.has(key)) continue;
    const prefix = passThroughPrefixes.find((p) => key.startsWith(p));
    if (!prefix) {
      problems.push(`unknown setting "${key}"`);
      continue;
    }
    const property = key.slice(prefix.length);
    if (javaOnlyProperties.has(property)) continue;
    kafka[prefix.slice(0, -1) as keyof typeof kafka][property] = value;
  }

  const str = (key: string, fallback: string) => props[key] ?? fallback;
  const int = (key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => {
    const raw = props[key];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`"${key}" must be an integer between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const listener = (key: string, fallback: string | null): Listener | null => {
    const raw = props[key] ?? fallback;
    if (raw === null || raw === "") return null;
    // Confluent's `listeners` is a comma-separated list; Wharf serves one public listener.
    const first = raw.split(",")[0]?.trim() ?? "";
    try {
      const url = new URL(first);
      const https = url.protocol === "https:" && key === "listeners";
      if (url.protocol !== "http:" && !https)
        throw new Error(key === "listeners" ? "only http:// or https://" : "only http:// is supported");
      const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
      return { host: url.hostname.replace(/^\[|\]$/g, ""), port, ...(https ? { https } : {}) };
    } catch (error) {
      problems.push(`"${key}" must be a URL like http://0.0.0.0:8082 (${(error as Error).message})`);
      return null;
    }
  };
  const url = (key: string): string | null => {
    const raw = props[key];
    if (!raw) return null;
    try {
      return new URL(raw).toString().replace(/\/$/, "");
    } catch {
      problems.push(`"${key}" must be a URL, got "${raw}"`);
      return null;
    }
  };

  const bootstrapServers = str("bootstrap.servers", "");
  if (bootstrapServers === "")
    problems.push('"bootstrap.servers" is required (e.g. WHARF_BOOTSTRAP_SERVERS=localhost:9092)');
  const logLevel = str("log.level", "info");
  if (!["debug", "info", "warn", "error"].includes(logLevel))
    problems.push(`"log.level" must be debug, info, warn or error`);

  const redis = parseRedis(props, problems);
  const publicListener = listener("listeners", "http://0.0.0.0:8082") ?? { host: "0.0.0.0", port: 8082 };
  const config: GatewayConfig = {
    id: str("id", `${hostname()}-${process.pid}`),
    listener: publicListener,
    internalListener: listener("internal.listener", null),
    internalAdvertisedUrl: url("internal.advertised.url"),
    publicUrl: url("public.url"),
    clusterSecret: props["cluster.secret"] || null,
    redis,
    redisUrl: redis?.kind === "standalone" ? redis.url : null,
    redisWaitMs: int("redis.wait.ms", 5000, 0, 120_000),
    bootstrapServers,
    kafka,
    produce: {
      poolSize: int("produce.pool.size", 1, 1, 64),
      maxRecordsPerRequest: int("produce.max.records.per.request", 10_000, 1),
      maxInflightRecords: int("produce.max.inflight.records", 200_000, 1),
      maxInflightBytes: int("produce.max.inflight.bytes", 256 * 1024 * 1024, 1024),
      idleFlushMs: int("produce.idle.flush.ms", 1, 0, 1000),
    },
    consumer: {
      requestTimeoutMs: int("consumer.request.timeout.ms", 1000, 0, 300_000),
      instanceTimeoutMs: int("consumer.instance.timeout.ms", 300_000, 1000),
      maxResponseBytes: int("consumer.request.max.bytes", 67_108_864, 1),
      prefetchMaxBytes: int("consumer.prefetch.max.bytes", 2 * 1024 * 1024, 1024),
      readAheadMaxBytes: int("consumer.read.ahead.max.bytes", 4 * 1024 * 1024, 0),
      idlePauseMs: int("consumer.idle.pause.ms", 2000, 0),
    },
    cluster: {
      heartbeatMs: int("cluster.heartbeat.ms", 1000, 100),
      nodeTtlMs: int("cluster.node.ttl.ms", 5000, 500),
      leaseTtlMs: int("cluster.lease.ttl.ms", 5000, 500),
    },
    http: {
      maxBodyBytes: int("request.max.bytes", 16 * 1024 * 1024, 1024),
      requestTimeoutMs: int("request.timeout.ms", 120_000, 0),
      headersTimeoutMs: int("request.headers.timeout.ms", 20_000, 1000),
      keepAliveTimeoutMs: int("keepalive.timeout.ms", 65_000, 1000),
      maxHeaderBytes: int("request.max.header.bytes", 16 * 1024, 1024, 1024 * 1024),
    },
    idempotency: {
      // The draft's examples keep keys for a day; a week at most, so Redis memory stays bounded.
      ttlMs: int("idempotency.ttl.ms", 86_400_000, 1000, 7 * 86_400_000),
      waitMs: int("idempotency.wait.ms", 10_000, 0, 300_000),
      memoryMaxBytes: int("idempotency.memory.max.bytes", 64 * 1024 * 1024, 64 * 1024),
      recovery: {
        maxRecords: int("idempotency.recovery.max.records", 1_000_000, 1),
        timeoutMs: int("idempotency.recovery.timeout.ms", 5000, 100, 60_000),
        clockSkewMs: int("idempotency.recovery.clock.skew.ms", 60_000, 0, 3_600_000),
      },
      leaseMs: int("idempotency.lease.ms", 10_000, 500, 600_000),
      settleMs: idempotencySettleMs(kafka, problems),
      minReplicas: minReplicas(props, redis, problems),
    },
    security: parseSecurity(props, problems, publicListener.https === true),
    schemaRegistry: parseSchemaRegistry(props, problems),
    stream: {
      heartbeatMs: int("stream.heartbeat.ms", 15_000, 100, 600_000),
      slowReaderTimeoutMs: int("stream.slow.reader.timeout.ms", 30_000, 100),
      batchMaxBytes: int("stream.batch.max.bytes", 256 * 1024, 1024),
      maxOpen: int("stream.max.open", 1000, 1),
    },
    shutdownTimeoutMs: int("shutdown.timeout.ms", 30_000, 0),
    logLevel: logLevel as GatewayConfig["logLevel"],
  };
  // As the admin client reads them (client.* then admin.*); librdkafka shares the client.* ones.
  const oauthbearer = oauthbearerProblem({ ...kafka.client, ...kafka.admin });
  if (oauthbearer) problems.push(`Kafka OAUTHBEARER (client.*, admin.*): ${oauthbearer}`);
  if (redis && !config.internalListener) {
    const key = redisSettingName(redis);
    problems.push(`"internal.listener" is required when "${key}" is set (nodes forward consumer requests to it)`);
  }
  if (redis && !config.clusterSecret) {
    const key = redisSettingName(redis);
    problems.push(`"cluster.secret" is required when "${key}" is set (it authenticates node-to-node requests)`);
  }
  if (!redis && config.idempotency.minReplicas !== 0) {
    problems.push('"idempotency.redis.min.replicas" needs Redis (redis.url, redis.sentinels or redis.cluster.nodes)');
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  return config;
}
