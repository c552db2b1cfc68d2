/**
 * createGateway(config) builds one Wharf node: Kafka clients, consumer cluster, HTTP listeners.
 * Nothing is a module-level singleton, so a test can run several gateways in one process.
 */
import type { AddressInfo } from "node:net";
import type { Hono } from "hono";
import { createConsumerHost } from "./cluster/consumer-host.ts";
import { createForwarder, type Forwarder } from "./cluster/forwarder.ts";
import { createMemoryDirectory } from "./cluster/instance-directory.ts";
import { createInternalHandler } from "./cluster/internal-server.ts";
import { createLocator } from "./cluster/locator.ts";
import { createRedisDirectory } from "./cluster/redis-directory.ts";
import type { GatewayConfig, Listener } from "./config.ts";
import { createApp, createInternalApp } from "./http/app.ts";
import { createIdempotency } from "./http/idempotency/index.ts";
import { createHttpServer, type HttpServer } from "./http/server.ts";
import { createStreamRegistry } from "./http/sse/streams.ts";
import { createTopicFeeds } from "./http/sse/topic-feeds.ts";
import { topicAccessRefusal } from "./kafka/admin/topics.ts";
import { createKafkaAdmin } from "./kafka/admin-client.ts";
import { createProducerPool, type ProducerPoolOptions } from "./kafka/producer-pool.ts";
import { TopicStream } from "./kafka/topic-stream.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMetrics } from "./metrics.ts";
import { createKafkaReadiness } from "./readiness.ts";
import { createSchemaSupport } from "./schemas/index.ts";
import { createSecurity, securityEnabled } from "./security/index.ts";

export interface Gateway {
  readonly app: Hono;
  /** Starts the listeners; resolves with the bound URLs (port 0 picks a free port). */
  listen(): Promise<{ url: string; internalUrl: string | null }>;
  /** Graceful stop: refuse new work, finish in-flight requests, hand off consumers, flush producers. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  log?: Logger;
  /** Audit lines (admin writes, refused requests); default: stdout whatever log.level says. */
  audit?: Logger;
  /** Tests only: see ProducerPoolOptions.reviseReport. main.ts never sets it. */
  reviseDeliveryReport?: ProducerPoolOptions["reviseReport"];
  /**
   * Tests only: awaited by every keyed send after its claim, before the claim is checked and the
   * records are handed to librdkafka, so a test can pause the process in between. main.ts never sets it.
   */
  holdKeyedWrite?: () => Promise<void>;
}

const READINESS_CACHE_MS = 1000;
/**
 * How long a node that reached Kafka stays ready while its pings go unanswered (readiness.ts).
 * Longer than Kafka takes to fence a dead or paused broker and move its leaders (the broker
 * session timeout, 9 s by default, plus a metadata refresh): every node's pings fail together
 * then, and with 5 s the fault suite's broker-pause and leader-kill still saw haproxy take all
 * three gateways out (their /readyz said 503) although the cluster served. A node cut off from
 * Kafka on its own still leaves the load balancer, after this long.
 */
const KAFKA_UNREACHABLE_GRACE_MS = 30_000;
const MAX_CONSUMER_WAIT_MS = 300_000;

const urlOf = (address: AddressInfo, scheme = "http") =>
  `${scheme}://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
const advertised = (listener: Listener) =>
  `http://${listener.host === "0.0.0.0" || listener.host === "::" ? "127.0.0.1" : listener.host}:${listener.port}`;

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel, { node: config.id });
  const metrics = createMetrics(config.id);
  const admin = createKafkaAdmin(config);
  const producers = await createProducerPool(config, log, metrics, {
    explainMissingTopic: (topic) => topicAccessRefusal(admin, topic),
    ...(options.reviseDeliveryReport ? { reviseReport: options.reviseDeliveryReport } : {}),
  });
  const schemas = await createSchemaSupport(config.schemaRegistry, metrics.schemaRegistryRequests);
  const directory = config.redis ? createRedisDirectory(config, log, metrics) : createMemoryDirectory();

  let internalAddress: string | null = null;
  const host = createConsumerHost(config, directory, log, metrics, () => internalAddress);
  const locator = createLocator(config.id, directory, host);
  const forwarder: Forwarder | null =
    directory.distributed && config.clusterSecret
      ? createForwarder(config.clusterSecret, metrics, MAX_CONSUMER_WAIT_MS)
      : null;

  let closing = false;
  const kafkaReadiness = createKafkaReadiness({
    ping: () => producers.ping(2000),
    intervalMs: READINESS_CACHE_MS,
    graceMs: KAFKA_UNREACHABLE_GRACE_MS,
  });
  const notReadyReason = async (): Promise<string | null> => {
    if (closing) return "shutting down";
    if (!producers.ready) return "producers not connected";
    return kafkaReadiness.problem();
  };

  const streams = createStreamRegistry(config.stream, metrics);
  const topicFeeds = createTopicFeeds({
    nodeId: config.id,
    settings: config.stream,
    metrics,
    schemas,
    openReader: (options) => TopicStream.open(config, options),
  });
  const audit = options.audit ?? createLogger("info", { node: config.id });
  const security = securityEnabled(config.security) ? createSecurity(config, log, audit) : null;
  const idempotency = createIdempotency(config, producers, log, metrics, options.holdKeyedWrite);
  const app = createApp({
    config,
    log,
    metrics,
    producers,
    admin,
    host,
    locator,
    forwarder,
    streams,
    topicFeeds,
    notReadyReason,
    security,
    audit,
    idempotency: idempotency.middleware,
    schemas,
  });
  const publicServer = createHttpServer(app.fetch, config.http, config.security.tls);
  let internalServer: HttpServer | null = null;
  if (config.internalListener && config.clusterSecret) {
    const internalApp = createInternalApp({ config, log, metrics, host, locator, streams, schemas });
    internalServer = createHttpServer(
      createInternalHandler(config.clusterSecret, config.http.maxBodyBytes, internalApp.fetch),
      config.http,
    );
  }

  return {
    app,
    async listen() {
      let internalUrl: string | null = null;
      if (internalServer && config.internalListener) {
        const bound = await internalServer.listen(config.internalListener);
        internalUrl = urlOf(bound);
        internalAddress =
          config.internalAdvertisedUrl ?? advertised({ host: config.internalListener.host, port: bound.port });
      }
      host.start();
      // Bounded by Redis's connect timeout: a Redis that is down leaves the configured fallback.
      await security?.ready(2000);
      const url = urlOf(await publicServer.listen(config.listener), config.security.tls ? "https" : "http");
      log.info("listening", { url, internalUrl, redis: directory.distributed });
      return { url, internalUrl };
    },
    async close() {
      if (closing) return;
      closing = true;
      log.info("shutting down");
      // Reverse order of start-up: stop taking requests, hand consumers off, flush what was accepted.
      // Event streams never finish by themselves: end them first so their clients resume elsewhere.
      await Promise.all([streams.closeAll(), forwarder?.endStreams()]);
      // Ended streams closed their consumers; this closes any a stream still opening left.
      await topicFeeds.close();
      await publicServer.close(config.shutdownTimeoutMs);
      await host.handOff();
      await internalServer?.close(1000);
      await forwarder?.close();
      await security?.close();
      await idempotency.close();
      await directory.close();
      await producers.close();
      schemas?.close();
      await admin.close();
      metrics.registry.clear();
      log.info("stopped");
    },
  };
}
