/** Operational endpoints: Confluent's root, liveness, readiness and Prometheus metrics. */
import { Hono } from "hono";
import type { Metrics } from "../../metrics.ts";
import { redactAddresses } from "../error-handler.ts";

interface Deps {
  metrics: Metrics;
  /** Why the node is not ready, or null when it is. */
  notReadyReason: () => Promise<string | null>;
}

export function opsRoutes({ metrics, notReadyReason }: Deps): Hono {
  const app = new Hono();
  // REST Proxy answers its root with an empty object; clients use it as a ping.
  app.get("/", (c) => c.json({}));
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const reason = await notReadyReason();
    // Open to anyone even with authentication on: say why, but not where Kafka lives.
    return reason === null
      ? c.json({ status: "ready" })
      : c.json({ status: "not ready", reason: redactAddresses(reason) }, 503);
  });
  app.get("/metrics", async (c) =>
    c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType }),
  );
  return app;
}
