/** Component schemas of the v3 API, after Confluent's api/v3/openapi.yaml, as Wharf answers them. */
import { aclOperations, aclPatternTypes, aclPermissions, aclResourceTypes } from "../../kafka/admin/index.ts";
import {
  array,
  boolean,
  enumOf,
  int64,
  integer,
  nullable,
  object,
  ref,
  requestObject,
  type Schema,
  string,
} from "./builders.ts";

const relationship = ref("Relationship");
const metadata = ref("ResourceMetadata");
const kind = (name: string) => ({ type: "string", const: name });

/** A resource: kind, metadata, cluster_id, then its own fields. */
const resourceOf = (name: string, properties: Record<string, Schema>, optional: string[] = []) =>
  object({ kind: kind(name), metadata, cluster_id: string(), ...properties }, optional);
const listOf = (name: string, item: string) =>
  object({ kind: kind(name), metadata: ref("ResourceCollectionMetadata"), data: array(ref(item)) });

const configSources = [
  "DYNAMIC_CLUSTER_LINK_CONFIG",
  "DYNAMIC_TOPIC_CONFIG",
  "DYNAMIC_BROKER_LOGGER_CONFIG",
  "DYNAMIC_BROKER_CONFIG",
  "DYNAMIC_DEFAULT_BROKER_CONFIG",
  "DYNAMIC_GROUP_CONFIG",
  "STATIC_BROKER_CONFIG",
  "DEFAULT_CONFIG",
  "UNKNOWN",
];
const configFields = {
  name: string(),
  value: nullable(string("Null for sensitive configs and configs without a value.")),
  is_default: boolean(),
  is_read_only: boolean(),
  is_sensitive: boolean(),
  source: enumOf(configSources),
  synonyms: array(
    object({ name: string(), value: nullable(string()), source: enumOf(configSources) }),
    "Where the value comes from, in order of precedence.",
  ),
};

const aclFields = {
  resource_type: enumOf(aclResourceTypes),
  resource_name: string(),
  pattern_type: enumOf(aclPatternTypes),
  principal: string("For example User:alice."),
  host: string("A host or *."),
  operation: enumOf(aclOperations),
  permission: enumOf(aclPermissions),
};

const produceData = nullable(
  requestObject(
    {
      type: enumOf(
        ["BINARY", "JSON", "STRING", "AVRO", "JSONSCHEMA", "PROTOBUF"],
        "AVRO, JSONSCHEMA and PROTOBUF take a raw schema; without a type the schema is named by " +
          "schema_id or schema_version, or is the subject's latest.",
      ),
      data: {
        description:
          "Base64 for BINARY, any JSON for JSON, a string for STRING; for a schema, REST Proxy's JSON " +
          "conversion (Avro's JSON encoding, JSON the JSON Schema accepts, Protobuf's JSON mapping).",
      },
      subject: nullable(string("The subject of the schema; default from subject_name_strategy.")),
      subject_name_strategy: nullable(
        enumOf(["TOPIC_NAME", "RECORD_NAME", "TOPIC_RECORD_NAME"], "Default: the gateway's *.subject.name.strategy."),
      ),
      schema_id: nullable(integer("A registered schema's id.")),
      schema_version: nullable(integer("A version of the subject.")),
      schema: nullable(string("Raw schema text (with type AVRO, JSONSCHEMA or PROTOBUF); registered if new.")),
    },
    [],
  ),
);
const produceRecord = {
  partition_id: nullable(integer()),
  headers: array(requestObject({ name: string(), value: nullable(string("Base64.")) }, ["name"])),
  key: produceData,
  value: produceData,
  timestamp: nullable(string("ISO 8601 date-time.")),
};
const deliveredData = object(
  {
    type: string(),
    subject: string("Schema types only."),
    schema_id: integer("Schema types only."),
    schema_version: integer("Schema types only."),
    size: int64("Bytes; -1 for null."),
  },
  ["subject", "schema_id", "schema_version"],
);
const delivered = {
  cluster_id: string(),
  topic_name: string(),
  partition_id: integer(),
  offset: int64(),
  timestamp: string("ISO 8601 date-time."),
  key: deliveredData,
  value: deliveredData,
};

export const v3Schemas: Record<string, Schema> = {
  Error: {
    type: "object",
    properties: { error_code: integer("HTTP status or Confluent's 5-digit code."), message: nullable(string()) },
    required: ["error_code", "message"],
  },
  Relationship: object({ related: string() }),
  ResourceMetadata: object({ self: string(), resource_name: string("A CRN: crn:///kafka=<cluster>/...") }, [
    "resource_name",
  ]),
  ResourceCollectionMetadata: object({ self: string(), next: nullable(string()) }),

  ClusterData: resourceOf("KafkaCluster", {
    controller: nullable(relationship),
    acls: relationship,
    brokers: relationship,
    broker_configs: relationship,
    consumer_groups: relationship,
    topics: relationship,
    partition_reassignments: relationship,
  }),
  ClusterDataList: listOf("KafkaClusterList", "ClusterData"),
  BrokerData: resourceOf("KafkaBroker", {
    broker_id: integer(),
    host: nullable(string()),
    port: nullable(integer()),
    rack: nullable(string()),
    configs: relationship,
    partition_replicas: relationship,
  }),
  BrokerDataList: listOf("KafkaBrokerList", "BrokerData"),
  TopicData: resourceOf("KafkaTopic", {
    topic_name: string(),
    is_internal: boolean(),
    replication_factor: integer(),
    partitions_count: integer(),
    partitions: relationship,
    configs: relationship,
    partition_reassignments: relationship,
    authorized_operations: array(enumOf(aclOperations), "Filled in when include_authorized_operations=true."),
  }),
  TopicDataList: listOf("KafkaTopicList", "TopicData"),
  PartitionData: resourceOf("KafkaPartition", {
    topic_name: string(),
    partition_id: integer(),
    leader: nullable(relationship),
    replicas: relationship,
    reassignment: relationship,
  }),
  PartitionDataList: listOf("KafkaPartitionList", "PartitionData"),
  PartitionWithOffsetsData: resourceOf("KafkaPartitionWithOffsets", {
    topic_name: string(),
    partition_id: integer(),
    earliest_offset: int64(),
    latest_offset: int64(),
  }),
  ReplicaData: resourceOf("KafkaReplica", {
    topic_name: string(),
    partition_id: integer(),
    broker_id: integer(),
    is_leader: boolean(),
    is_in_sync: boolean(),
    broker: relationship,
  }),
  ReplicaDataList: listOf("KafkaReplicaList", "ReplicaData"),
  ReassignmentData: resourceOf("KafkaReassignment", {
    topic_name: string(),
    partition_id: integer(),
    adding_replicas: array(integer()),
    removing_replicas: array(integer()),
    replicas: relationship,
  }),
  ReassignmentDataList: listOf("KafkaReassignmentList", "ReassignmentData"),
  TopicConfigData: resourceOf("KafkaTopicConfig", { ...configFields, topic_name: string() }),
  TopicConfigDataList: listOf("KafkaTopicConfigList", "TopicConfigData"),
  BrokerConfigData: resourceOf("KafkaBrokerConfig", { ...configFields, broker_id: integer() }),
  BrokerConfigDataList: listOf("KafkaBrokerConfigList", "BrokerConfigData"),
  ClusterConfigData: resourceOf("KafkaClusterConfig", { ...configFields, config_type: enumOf(["BROKER"]) }),
  ClusterConfigDataList: listOf("KafkaClusterConfigList", "ClusterConfigData"),
  ConsumerGroupData: resourceOf("KafkaConsumerGroup", {
    consumer_group_id: string(),
    is_simple: boolean(),
    partition_assignor: string(),
    state: enumOf([
      "UNKNOWN",
      "PREPARING_REBALANCE",
      "COMPLETING_REBALANCE",
      "ASSIGNING",
      "RECONCILING",
      "STABLE",
      "DEAD",
      "EMPTY",
    ]),
    type: enumOf(["UNKNOWN", "CLASSIC", "CONSUMER", "SHARE"]),
    is_mixed_consumer_group: boolean(),
    coordinator: relationship,
    consumers: relationship,
    lag_summary: relationship,
  }),
  ConsumerGroupDataList: listOf("KafkaConsumerGroupList", "ConsumerGroupData"),
  ConsumerData: resourceOf("KafkaConsumer", {
    consumer_group_id: string(),
    consumer_id: string(),
    instance_id: nullable(string()),
    client_id: string(),
    assignments: relationship,
  }),
  ConsumerDataList: listOf("KafkaConsumerList", "ConsumerData"),
  ConsumerAssignmentData: resourceOf("KafkaConsumerAssignment", {
    consumer_group_id: string(),
    consumer_id: string(),
    topic_name: string(),
    partition_id: integer(),
    partition: relationship,
    lag: relationship,
  }),
  ConsumerAssignmentDataList: listOf("KafkaConsumerAssignmentList", "ConsumerAssignmentData"),
  ConsumerLagData: resourceOf("KafkaConsumerLag", {
    consumer_group_id: string(),
    topic_name: string(),
    partition_id: integer(),
    current_offset: int64(),
    log_end_offset: int64(),
    lag: int64(),
    consumer_id: string("Empty when no consumer has the partition."),
    instance_id: nullable(string()),
    client_id: string(),
  }),
  ConsumerLagDataList: listOf("KafkaConsumerLagList", "ConsumerLagData"),
  ConsumerGroupLagSummaryData: resourceOf("KafkaConsumerGroupLagSummary", {
    consumer_group_id: string(),
    max_lag_consumer_id: string(),
    max_lag_instance_id: nullable(string()),
    max_lag_client_id: string(),
    max_lag_topic_name: string(),
    max_lag_partition_id: integer(),
    max_lag: int64(),
    total_lag: int64(),
    max_lag_consumer: relationship,
    max_lag_partition: relationship,
  }),
  AclData: object({
    kind: kind("KafkaAcl"),
    metadata: object({ self: string() }),
    cluster_id: string(),
    ...aclFields,
  }),
  AclDataList: object({
    kind: kind("KafkaAclList"),
    metadata: ref("ResourceCollectionMetadata"),
    data: array(ref("AclData")),
  }),
  DeleteAclsResponse: object({ data: array(ref("AclData")) }),

  CreateTopicRequest: requestObject(
    {
      topic_name: string(),
      partitions_count: integer("Default: the broker's num.partitions."),
      replication_factor: integer("Default: the broker's default.replication.factor."),
      replicas_assignments: {
        type: "object",
        description: "Partition id to broker ids; overrides partitions_count and replication_factor.",
        additionalProperties: array(integer()),
      },
      configs: array(requestObject({ name: string(), value: nullable(string()) }, ["name"])),
      validate_only: boolean("Only check that the topic could be created (answers 200)."),
    },
    ["topic_name"],
  ),
  UpdatePartitionCountRequest: requestObject({ partitions_count: integer() }, ["partitions_count"]),
  UpdateConfigRequest: requestObject({ value: nullable(string()) }, []),
  AlterConfigBatchRequest: requestObject(
    {
      data: array(
        requestObject({ name: string(), value: nullable(string()), operation: nullable(enumOf(["SET", "DELETE"])) }, [
          "name",
        ]),
      ),
      validate_only: boolean("Honoured by the topic batch only, as in REST Proxy."),
    },
    ["data"],
  ),
  CreateAclRequest: requestObject(aclFields, Object.keys(aclFields)),
  CreateAclBatchRequest: requestObject({ data: array(ref("CreateAclRequest")) }, ["data"]),

  ProduceRequest: requestObject(produceRecord, []),
  ProduceBatchRequest: requestObject({ entries: array(requestObject({ id: string(), ...produceRecord }, ["id"])) }, [
    "entries",
  ]),
  ProduceResponse: {
    description: "One delivery report; error_code 200 for success.",
    oneOf: [
      object({ error_code: { const: 200 }, ...delivered }, ["timestamp", "key", "value"]),
      object({ error_code: integer(), message: string() }),
    ],
  },
  ProduceBatchResponse: object({
    successes: array(object({ id: string(), ...delivered }, ["timestamp", "key", "value"])),
    failures: array(object({ id: string(), error_code: integer(), message: string() })),
  }),
};
