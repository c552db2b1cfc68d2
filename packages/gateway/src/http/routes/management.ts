/** The management plane: v2 metadata, the v3 admin API, and Wharf's OpenAPI document and reference page. */
import { Hono } from "hono";
import type { GatewayConfig } from "../../config.ts";
import type { KafkaAdmin } from "../../kafka/admin-client.ts";
import { openApiRoutes } from "../openapi/routes.ts";
import { metadataV2Routes } from "./metadata-v2.ts";
import { v3AdminRoutes } from "./v3/index.ts";

export interface ManagementDeps {
  config: GatewayConfig;
  admin: KafkaAdmin;
}

export function managementRoutes(deps: ManagementDeps): Hono {
  const app = new Hono();
  app.route("/", metadataV2Routes(deps));
  app.route("/", v3AdminRoutes(deps));
  app.route("/", openApiRoutes(deps));
  return app;
}
