/** Assembles the public HTTP API from its route groups; middleware stays thin. */
import { Hono } from "hono";
import type { GatewayConfig } from "../config.ts";
import type { KafkaAdmin } from "../kafka/admin-client.ts";
import type { ProducerPool } from "../kafka/producer-pool.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { createErrorHandler, notFoundHandler } from "./error-handler.ts";
import { opsRoutes } from "./routes/ops.ts";
import { produceV2Routes } from "./routes/produce-v2.ts";
import { produceV3Routes } from "./routes/produce-v3.ts";

export interface AppDeps {
  config: GatewayConfig;
  log: Logger;
  metrics: Metrics;
  producers: ProducerPool;
  admin: KafkaAdmin;
  notReadyReason: () => Promise<string | null>;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    const start = performance.now();
    await next();
    deps.metrics.httpRequests.observe(
      { route: c.req.routePath, method: c.req.method, status: c.res.status },
      (performance.now() - start) / 1000,
    );
  });
  app.route("/", opsRoutes(deps));
  app.route("/", produceV2Routes(deps));
  app.route("/", produceV3Routes(deps));
  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(deps.log));
  return app;
}
