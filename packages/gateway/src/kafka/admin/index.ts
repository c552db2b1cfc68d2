/**
 * The management plane's Kafka operations: the only door the v2 metadata and v3 admin routes use.
 *
 * Two admin clients, each where it serves best; neither is hand-written protocol code.
 *
 * librdkafka (@confluentinc/kafka-javascript AdminClient, rdkafka.ts):
 *   listTopics, describeTopics (partitions, leader, replicas, ISR, internal flag, authorized
 *   operations), deleteTopic, createPartitions (PATCH partitions_count), listOffsets (partition
 *   offsets, log-end offsets for lag). It is the client the rest of Wharf runs on.
 *
 * @platformatic/kafka Admin (the KafkaAdmin's `client`), for what librdkafka's binding lacks or
 * gets wrong:
 *   metadata: cluster id, controller, brokers with host/port/rack (the binding has no
 *     DescribeCluster and reports no cluster id);
 *   createTopics: takes explicit replica assignments and returns the partition count and
 *     replication factor the broker chose (the binding's createTopic takes neither assignments nor
 *     validate_only and returns nothing);
 *   describeConfigs, incrementalAlterConfigs: topic and broker configs (not in the binding);
 *   createAcls, describeAcls, deleteAcls (not in the binding);
 *   listGroups, describeGroups, findCoordinator, listConsumerGroupOffsets: the binding has these,
 *     but describeGroups and listConsumerGroupOffsets crash the process (SIGSEGV) when the group
 *     coordinator is not available yet, e.g. on a fresh cluster. Reproduced with 1.10.1.
 *
 * @platformatic/kafka's request/response functions over the Admin's connections
 * (protocol-calls.ts), for what no client offers as a method: CreateTopics with validate_only,
 * DescribeConfigs/IncrementalAlterConfigs of the cluster-wide broker defaults (Admin sends them to
 * a broker "0"), ListPartitionReassignments, and ConsumerGroupDescribe for KIP-848 groups.
 *
 * Every failure goes through errors.ts, which maps Kafka's error codes to Confluent's.
 */
export * from "./acls.ts";
export * from "./cluster.ts";
export * from "./configs.ts";
export {
  badRequestParam,
  clusterNotFound,
  kafkaCall,
  notFound,
  toRestError,
  unknownTopicOrPartition,
} from "./errors.ts";
export * from "./groups.ts";
export * from "./reassignments.ts";
export * from "./topics.ts";
export type * from "./types.ts";
export { aclOperations, aclPatternTypes, aclPermissions, aclResourceTypes } from "./types.ts";
