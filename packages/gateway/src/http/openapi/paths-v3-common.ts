/** What the v3 path tables share: path parameters, error sets, tag names, and GET operations. */
import { errors, integer, type Operation, ok, type Parameter, pathParam, ref, string } from "./builders.ts";

export const cluster = pathParam("cluster_id", string(), "The Kafka cluster id (GET /v3/clusters).");
export const topic = pathParam("topic_name");
export const partition = pathParam("partition_id", integer());
export const broker = pathParam("broker_id", integer());
export const name = pathParam("name", string(), "The configuration parameter name.");
export const group = pathParam("consumer_group_id");
export const consumer = pathParam("consumer_id");

export const read = ["400", "401", "403", "404", "406", "429", "5XX"];
export const write = ["400", "401", "403", "404", "406", "415", "422", "429", "5XX"];

export const T = { cluster: "Cluster (v3)", broker: "Broker (v3)", topic: "Topic (v3)", partition: "Partition (v3)" };
export const C = { configs: "Configs (v3)", replica: "Replica (v3)", group: "Consumer Group (v3)", acl: "ACL (v3)" };
export const R = "Records (v3)";

export function get(
  id: string,
  summary: string,
  tag: string,
  params: Parameter[],
  schema: string,
  extra: Parameter[] = [],
) {
  return {
    get: {
      operationId: id,
      summary,
      tags: [tag],
      parameters: [...params, ...extra],
      responses: { "200": ok(summary, ref(schema)), ...errors(read) },
    } satisfies Operation,
  };
}
