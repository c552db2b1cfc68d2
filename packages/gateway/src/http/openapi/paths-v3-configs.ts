/** v3 config paths: per topic, per broker, and the cluster-wide broker defaults. */
import { errors, jsonRequest, noBody, type Operation, type Parameter, ref } from "./builders.ts";
import { broker, C, cluster, get, name, read, topic, write } from "./paths-v3-common.ts";

function configPaths(prefix: string, kind: "Topic" | "Broker" | "Cluster", params: Parameter[], tag: string) {
  const item = kind === "Cluster" ? "ClusterConfigData" : `${kind}ConfigData`;
  const lower = kind.toLowerCase();
  return {
    [`${prefix}/{name}`]: {
      ...get(`get${kind}Config`, `Get a ${lower} config`, tag, [...params, name], item),
      put: {
        operationId: `update${kind}Config`,
        summary: `Set a ${lower} config`,
        tags: [tag],
        parameters: [...params, name],
        requestBody: jsonRequest(ref("UpdateConfigRequest")),
        responses: { "204": noBody("Updated."), ...errors(write) },
      } satisfies Operation,
      delete: {
        operationId: `reset${kind}Config`,
        summary: `Reset a ${lower} config to its default`,
        tags: [tag],
        parameters: [...params, name],
        responses: { "204": noBody("Reset."), ...errors(read) },
      } satisfies Operation,
    },
  };
}

function alter(id: string, summary: string, tag: string, params: Parameter[]) {
  return {
    post: {
      operationId: id,
      summary,
      tags: [tag],
      parameters: params,
      requestBody: jsonRequest(ref("AlterConfigBatchRequest")),
      responses: { "204": noBody("Altered (or, with validate_only, found valid)."), ...errors(write) },
    } satisfies Operation,
  };
}

export const v3ConfigPaths: Record<string, Record<string, Operation>> = {
  "/v3/clusters/{cluster_id}/broker-configs": get(
    "listKafkaClusterConfigs",
    "List dynamic cluster-wide broker configs",
    C.configs,
    [cluster],
    "ClusterConfigDataList",
  ),
  "/v3/clusters/{cluster_id}/broker-configs:alter": alter(
    "updateKafkaClusterConfigs",
    "Alter dynamic cluster-wide broker configs",
    C.configs,
    [cluster],
  ),
  ...configPaths("/v3/clusters/{cluster_id}/broker-configs", "Cluster", [cluster], C.configs),
  "/v3/clusters/{cluster_id}/brokers/-/configs": get(
    "listAllBrokerConfigs",
    "List the configs of every broker",
    C.configs,
    [cluster],
    "BrokerConfigDataList",
  ),
  "/v3/clusters/{cluster_id}/brokers/{broker_id}/configs": get(
    "listKafkaBrokerConfigs",
    "List a broker's configs",
    C.configs,
    [cluster, broker],
    "BrokerConfigDataList",
  ),
  "/v3/clusters/{cluster_id}/brokers/{broker_id}/configs:alter": alter(
    "updateKafkaBrokerConfigs",
    "Alter a broker's configs",
    C.configs,
    [cluster, broker],
  ),
  ...configPaths("/v3/clusters/{cluster_id}/brokers/{broker_id}/configs", "Broker", [cluster, broker], C.configs),

  "/v3/clusters/{cluster_id}/topics/-/configs": get(
    "listKafkaAllTopicConfigs",
    "List the configs of every topic",
    C.configs,
    [cluster],
    "TopicConfigDataList",
  ),
  "/v3/clusters/{cluster_id}/topics/{topic_name}/configs": get(
    "listKafkaTopicConfigs",
    "List a topic's configs",
    C.configs,
    [cluster, topic],
    "TopicConfigDataList",
  ),
  "/v3/clusters/{cluster_id}/topics/{topic_name}/configs:alter": alter(
    "updateKafkaTopicConfigBatch",
    "Alter a topic's configs (validate_only supported)",
    C.configs,
    [cluster, topic],
  ),
  ...configPaths("/v3/clusters/{cluster_id}/topics/{topic_name}/configs", "Topic", [cluster, topic], C.configs),
};
