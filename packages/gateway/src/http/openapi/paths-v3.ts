/**
 * The v3 paths: Confluent's v3 API as Wharf serves it (deviations are said where they are).
 * Configs, consumer groups and ACLs are in their own files.
 */
import { enumOf, errors, jsonRequest, noBody, type Operation, ok, queryParam, ref, string } from "./builders.ts";
import { idempotencyKey, withReplayHeader } from "./idempotency.ts";
import { broker, C, cluster, get, partition, R, read, T, topic, write } from "./paths-v3-common.ts";
import { v3ConfigPaths } from "./paths-v3-configs.ts";
import { v3GroupAndAclPaths } from "./paths-v3-groups.ts";

export const v3Paths: Record<string, Record<string, Operation>> = {
  "/v3/clusters": get("listKafkaClusters", "List clusters (the one Wharf talks to)", T.cluster, [], "ClusterDataList"),
  "/v3/clusters/{cluster_id}": get("getKafkaCluster", "Get the cluster", T.cluster, [cluster], "ClusterData"),

  "/v3/clusters/{cluster_id}/brokers": get("listKafkaBrokers", "List brokers", T.broker, [cluster], "BrokerDataList"),
  "/v3/clusters/{cluster_id}/brokers/{broker_id}": get(
    "getKafkaBroker",
    "Get a broker",
    T.broker,
    [cluster, broker],
    "BrokerData",
  ),
  "/v3/clusters/{cluster_id}/brokers/{broker_id}/partition-replicas": get(
    "searchReplicasByBroker",
    "List the replicas a broker hosts",
    T.broker,
    [cluster, broker],
    "ReplicaDataList",
  ),

  "/v3/clusters/{cluster_id}/topics": {
    ...get("listKafkaTopics", "List topics (internal topics left out)", T.topic, [cluster], "TopicDataList", [
      queryParam("includeAuthorizedOperations", { type: "boolean" }, "REST Proxy's spelling on this route."),
    ]),
    post: {
      operationId: "createKafkaTopic",
      summary: "Create a topic",
      tags: [T.topic],
      parameters: [cluster],
      requestBody: jsonRequest(ref("CreateTopicRequest")),
      responses: {
        "200": ok("validate_only: the topic could be created (nothing was created).", ref("TopicData")),
        "201": {
          ...ok("Created.", ref("TopicData")),
          headers: { Location: { description: "The topic's URL.", schema: string() } },
        },
        ...errors(write),
      },
    },
  },
  "/v3/clusters/{cluster_id}/topics/{topic_name}": {
    ...get("getKafkaTopic", "Get a topic", T.topic, [cluster, topic], "TopicData", [
      queryParam("include_authorized_operations", { type: "boolean" }),
    ]),
    patch: {
      operationId: "updatePartitionCountKafkaTopic",
      summary: "Increase the partition count",
      tags: [T.topic],
      parameters: [cluster, topic],
      requestBody: jsonRequest(ref("UpdatePartitionCountRequest")),
      responses: { "200": ok("The topic with its new partitions.", ref("TopicData")), ...errors(write) },
    },
    delete: {
      operationId: "deleteKafkaTopic",
      summary: "Delete a topic",
      tags: [T.topic],
      parameters: [cluster, topic],
      responses: { "204": noBody("Deleted."), ...errors(read) },
    },
  },
  "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions": get(
    "listKafkaPartitions",
    "List a topic's partitions",
    T.partition,
    [cluster, topic],
    "PartitionDataList",
  ),
  "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}": get(
    "getKafkaPartition",
    "Get a partition",
    T.partition,
    [cluster, topic, partition],
    "PartitionData",
  ),
  "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/offset": get(
    "listKafkaPartitionOffsets",
    "Get a partition's earliest and latest offsets",
    T.partition,
    [cluster, topic, partition],
    "PartitionWithOffsetsData",
    [queryParam("offset_type", enumOf(["earliest_and_latest"]))],
  ),
  "/v3/clusters/{cluster_id}/topics/-/partitions/-/reassignment": get(
    "listAllReassignments",
    "List ongoing replica reassignments",
    T.partition,
    [cluster],
    "ReassignmentDataList",
  ),
  "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/-/reassignment": get(
    "searchReassignmentsByTopic",
    "List a topic's ongoing replica reassignments",
    T.partition,
    [cluster, topic],
    "ReassignmentDataList",
  ),
  "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/reassignment": get(
    "getReassignment",
    "Get a partition's ongoing reassignment (404 when there is none)",
    T.partition,
    [cluster, topic, partition],
    "ReassignmentData",
  ),
  "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/replicas": get(
    "listKafkaReplicas",
    "List a partition's replicas",
    C.replica,
    [cluster, topic, partition],
    "ReplicaDataList",
  ),
  "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/replicas/{broker_id}": get(
    "getKafkaReplica",
    "Get a partition's replica on a broker",
    C.replica,
    [cluster, topic, partition, broker],
    "ReplicaData",
  ),

  "/v3/clusters/{cluster_id}/topics/{topic_name}/records": {
    post: {
      operationId: "produceRecord",
      summary: "Produce records (streaming)",
      description:
        "One record, or many as concatenated JSON in one (chunked) request. Answers 200 at once and " +
        "streams one delivery report per record, in order, each followed by \\r\\n, with its own " +
        "error_code. The cluster_id is not checked, as in REST Proxy. With an Idempotency-Key the " +
        "request is one unit: the whole body is read first, all reports come at the end, and a repeat " +
        "gets them all again. Schema fields (type AVRO/JSONSCHEMA/PROTOBUF with schema, schema_id, " +
        "schema_version, subject, subject_name_strategy) need schema.registry.url; a record its schema " +
        "refuses is reported in band (422, 'Error: 42203 : ...').",
      tags: [R],
      parameters: [cluster, topic, idempotencyKey],
      requestBody: jsonRequest(ref("ProduceRequest")),
      responses: {
        "200": withReplayHeader(ok("Delivery reports, one per record.", ref("ProduceResponse"))),
        ...errors(["400", "401", "403", "404", "406", "409", "413", "415", "422", "429", "5XX"]),
      },
    },
  },
  "/v3/clusters/{cluster_id}/topics/{topic_name}/records:batch": {
    post: {
      operationId: "produceRecordsBatch",
      summary: "Produce a batch of records (at most 10)",
      tags: [R],
      parameters: [cluster, topic, idempotencyKey],
      requestBody: jsonRequest(ref("ProduceBatchRequest")),
      responses: {
        "207": withReplayHeader(ok("Per-entry successes and failures.", ref("ProduceBatchResponse"))),
        ...errors(["400", "401", "403", "404", "406", "409", "415", "422", "429", "5XX"]),
      },
    },
  },
  ...v3ConfigPaths,
  ...v3GroupAndAclPaths,
};
