/** The schema formats' public door: the registry client and what produce and consume use of it. */
import type { Counter } from "prom-client";
import { createSchemas, type Schemas } from "./schema-service.ts";
import type { SchemaRegistryConfig } from "./settings.ts";

export type { ResolvedSchema, SchemaFormat, SchemaRequest, Schemas } from "./schema-service.ts";
export { RecordDecodeError, v3TypeOfFormat } from "./schema-service.ts";

/**
 * Null without `schema.registry.url`: the schema formats then answer as REST Proxy does without
 * one. The registry client is loaded only when a registry is configured (it takes seconds to load).
 */
export async function createSchemaSupport(
  config: SchemaRegistryConfig | null,
  requests: Counter<"outcome">,
): Promise<Schemas | null> {
  if (config === null) return null;
  const { createSchemaRegistry } = await import("./registry-client.ts");
  return createSchemas(config, createSchemaRegistry(config, requests));
}
