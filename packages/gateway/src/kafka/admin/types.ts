/** What the management plane knows about a cluster, independent of the client that read it. */

export interface BrokerInfo {
  id: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface ClusterInfo {
  id: string;
  controllerId: number | null;
  brokers: BrokerInfo[];
}

export interface ReplicaInfo {
  brokerId: number;
  isLeader: boolean;
  inSync: boolean;
}

export interface PartitionInfo {
  topic: string;
  partition: number;
  /** Broker id of the leader, null while there is none. */
  leader: number | null;
  replicas: ReplicaInfo[];
}

export interface TopicInfo {
  name: string;
  internal: boolean;
  /** Replicas of the first partition, as REST Proxy reports it. */
  replicationFactor: number;
  partitions: PartitionInfo[];
  /** Operation names (READ, WRITE...), empty unless asked for. */
  authorizedOperations: string[];
}

export interface PartitionOffsets {
  earliest: number;
  latest: number;
}

export interface NewTopic {
  name: string;
  partitions: number | null;
  replicationFactor: number | null;
  /** Partition id to broker ids; empty for uniform placement. */
  assignments: Map<number, number[]>;
  configs: Array<{ name: string; value: string | null }>;
  validateOnly: boolean;
}

export type ConfigResource =
  | { type: "topic"; topic: string }
  | { type: "broker"; brokerId: number }
  /** The dynamic cluster-wide broker defaults (KIP-226: the BROKER resource named ""). */
  | { type: "cluster" };

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: string;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  isDefault: boolean;
  isReadOnly: boolean;
  isSensitive: boolean;
  source: string;
  synonyms: ConfigSynonym[];
}

export interface AlterConfigCommand {
  name: string;
  operation: "SET" | "DELETE";
  value: string | null;
}

export interface GroupMemberInfo {
  consumerId: string;
  instanceId: string | null;
  clientId: string;
  assignments: Array<{ topic: string; partition: number }>;
}

export interface GroupInfo {
  id: string;
  isSimple: boolean;
  partitionAssignor: string;
  /** Confluent's state names: STABLE, EMPTY, PREPARING_REBALANCE... */
  state: string;
  /** CLASSIC, CONSUMER, SHARE or UNKNOWN. */
  type: string;
  coordinatorId: number;
  members: GroupMemberInfo[];
}

export interface PartitionLag {
  topic: string;
  partition: number;
  currentOffset: number;
  logEndOffset: number;
  lag: number;
  /** The member the partition is assigned to, if any. */
  member: GroupMemberInfo | null;
}

export const aclResourceTypes = [
  "UNKNOWN",
  "ANY",
  "TOPIC",
  "GROUP",
  "CLUSTER",
  "TRANSACTIONAL_ID",
  "DELEGATION_TOKEN",
] as const;
export const aclPatternTypes = ["UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"] as const;
export const aclOperations = [
  "UNKNOWN",
  "ANY",
  "ALL",
  "READ",
  "WRITE",
  "CREATE",
  "DELETE",
  "ALTER",
  "DESCRIBE",
  "CLUSTER_ACTION",
  "DESCRIBE_CONFIGS",
  "ALTER_CONFIGS",
  "IDEMPOTENT_WRITE",
] as const;
export const aclPermissions = ["UNKNOWN", "ANY", "DENY", "ALLOW"] as const;

export type AclResourceType = (typeof aclResourceTypes)[number];
export type AclPatternType = (typeof aclPatternTypes)[number];
export type AclOperation = (typeof aclOperations)[number];
export type AclPermission = (typeof aclPermissions)[number];

export interface AclBinding {
  resourceType: AclResourceType;
  resourceName: string;
  patternType: AclPatternType;
  principal: string;
  host: string;
  operation: AclOperation;
  permission: AclPermission;
}

/** A search or delete filter: null matches anything. */
export type AclFilter = Omit<AclBinding, "resourceName" | "principal" | "host"> & {
  resourceName: string | null;
  principal: string | null;
  host: string | null;
};

export interface Reassignment {
  topic: string;
  partition: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}
