/**
 * Schema Registry settings, with the names Confluent's REST Proxy uses (`schema.registry.*`).
 * Without `schema.registry.url` the avro, jsonschema and protobuf formats answer 42206/42207.
 */

export interface SchemaRegistryConfig {
  /** One or more registry base URLs (Confluent's comma list); requests fail over between them. */
  urls: string[];
}

export const schemaRegistryKeys = ["schema.registry.url"] as const;

export function parseSchemaRegistry(props: Record<string, string>, problems: string[]): SchemaRegistryConfig | null {
  const raw = props["schema.registry.url"]?.trim();
  if (!raw) return null;
  const urls: string[] = [];
  for (const part of raw.split(",")) {
    const candidate = part.trim();
    if (candidate === "") continue;
    try {
      const url = new URL(candidate);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("only http:// or https://");
      urls.push(url.toString().replace(/\/$/, ""));
    } catch (error) {
      problems.push(
        `"schema.registry.url" must be a comma list of URLs, got "${candidate}" (${(error as Error).message})`,
      );
    }
  }
  return urls.length > 0 ? { urls } : null;
}
