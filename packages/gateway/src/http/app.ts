/** Assembles the public HTTP API from its route groups; middleware stays thin. */
import { type Context, Hono, type MiddlewareHandler, type Next } from "hono";
import type { GatewayConfig } from "../config.ts";
import type { KafkaAdmin } from "../kafka/admin-client.ts";
import type { ProducerPool } from "../kafka/producer-pool.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { auditAdminWrites } from "../security/audit.ts";
import { type Security, trustForwardedPrincipal } from "../security/index.ts";
import { createErrorHandler, notFoundHandler } from "./error-handler.ts";
import { type ConsumerRouteDeps, consumerRoutes } from "./routes/consumers-v2.ts";
import { managementRoutes } from "./routes/management.ts";
import { opsRoutes } from "./routes/ops.ts";
import { produceV2Routes } from "./routes/produce-v2.ts";
import { produceV3Routes } from "./routes/produce-v3.ts";
import { topicStreamRoutes } from "./routes/sse-topic.ts";
import type { TopicFeeds } from "./sse/topic-feeds.ts";

export interface AppDeps extends ConsumerRouteDeps {
  config: GatewayConfig;
  log: Logger;
  metrics: Metrics;
  producers: ProducerPool;
  admin: KafkaAdmin;
  notReadyReason: () => Promise<string | null>;
  /** The Kafka reads behind topic event streams. */
  topicFeeds: TopicFeeds;
  /** Authentication, rate limits and authorization; null when none is configured. */
  security?: Security | null;
  /** Where admin writes are audited. */
  audit?: Logger;
  /** Idempotency-Key handling for produce routes (http/idempotency). */
  idempotency?: MiddlewareHandler;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.use(requestMetrics(deps.metrics));
  if (deps.audit) app.use(auditAdminWrites(deps.audit));
  if (deps.security) app.use(deps.security.middleware);
  app.route("/", opsRoutes(deps));
  app.route("/", produceV2Routes(deps));
  app.route("/", produceV3Routes(deps));
  app.route("/", consumerRoutes(deps));
  app.route("/", topicStreamRoutes(deps));
  app.route("/", managementRoutes(deps));
  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(deps.log));
  return app;
}

/** The internal listener serves only consumer calls forwarded by other nodes, never forwarding again. */
export function createInternalApp(deps: Omit<ConsumerRouteDeps, "forwarder"> & { log: Logger }): Hono {
  const app = new Hono();
  app.use(requestMetrics(deps.metrics, "internal"));
  app.use(trustForwardedPrincipal);
  app.route("/", consumerRoutes({ ...deps, forwarder: null }));
  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(deps.log));
  return app;
}

function requestMetrics(metrics: Metrics, prefix = "") {
  return async (c: Context, next: Next) => {
    const start = performance.now();
    await next();
    metrics.httpRequests.observe(
      { route: `${prefix}${c.req.routePath}`, method: c.req.method, status: c.res.status },
      (performance.now() - start) / 1000,
    );
  };
}
