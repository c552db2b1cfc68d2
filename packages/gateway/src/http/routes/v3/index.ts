/** REST Proxy's v3 admin API (the v3 produce routes live in produce-v3.ts). */
import { Hono } from "hono";
import { aclRoutes } from "./acls.ts";
import { brokerRoutes } from "./brokers.ts";
import { clusterRoutes } from "./clusters.ts";
import { configRoutes } from "./configs.ts";
import { consumerGroupRoutes } from "./consumer-groups.ts";
import type { V3Deps } from "./links.ts";
import { partitionRoutes } from "./partitions.ts";
import { topicRoutes } from "./topics.ts";

export type { V3Deps } from "./links.ts";

export function v3AdminRoutes(deps: V3Deps): Hono {
  const app = new Hono();
  // Routes with a literal "-" (topics/-/configs, brokers/-/configs, topics/-/partitions/-/...)
  // must come before the ones with a parameter in that place: configs and partitions first.
  app.route("/", configRoutes(deps));
  app.route("/", partitionRoutes(deps));
  app.route("/", clusterRoutes(deps));
  app.route("/", brokerRoutes(deps));
  app.route("/", topicRoutes(deps));
  app.route("/", consumerGroupRoutes(deps));
  app.route("/", aclRoutes(deps));
  return app;
}
