/**
 * Wharf's own OpenAPI 3.1 document: everything it serves, v2 and v3, its extensions and its
 * operational endpoints. Built once; the integration suite checks real responses against it.
 */
import { v2ListSchemas, v2Paths } from "./paths-v2.ts";
import { v3Paths } from "./paths-v3.ts";
import { v2Schemas } from "./schemas-v2.ts";
import { v3Schemas } from "./schemas-v3.ts";

const tags = [
  ["Operations", "Root, health, readiness, metrics and this document."],
  ["Produce (v2)", "REST Proxy v2 produce."],
  ["Consumers (v2)", "REST Proxy v2 consumer instances; any node serves any instance."],
  ["Metadata (v2)", "REST Proxy v2 topics, partitions and brokers."],
  ["Streams (Wharf)", "Server-Sent Events streams of a topic."],
  ["Cluster (v3)", ""],
  ["Broker (v3)", ""],
  ["Topic (v3)", ""],
  ["Partition (v3)", ""],
  ["Replica (v3)", ""],
  ["Configs (v3)", ""],
  ["Consumer Group (v3)", ""],
  ["ACL (v3)", ""],
  ["Records (v3)", ""],
].map(([name, description]) => (description ? { name, description } : { name }));

let built: Record<string, unknown> | null = null;

export function openApiDocument(): Record<string, unknown> {
  built ??= {
    openapi: "3.1.0",
    info: {
      title: "Wharf",
      version: "0.1.0",
      summary: "An HTTP gateway for Apache Kafka, wire-compatible with Confluent's REST Proxy (v2 and v3).",
      description:
        'Errors are Confluent\'s `{"error_code", "message"}`. v3 admin URLs in responses start at ' +
        "the gateway's public.url, or the request's origin when it is not set.",
    },
    tags,
    paths: { ...v2Paths, ...v3Paths },
    components: { schemas: { ...v3Schemas, ...v2Schemas, ...v2ListSchemas } },
  };
  return built;
}
