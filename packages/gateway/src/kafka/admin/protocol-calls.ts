/**
 * The few operations neither admin client offers as a method, run with @platformatic/kafka's own
 * request/response implementations (its exported `api` functions) over the Admin's pooled
 * connections. Nothing here encodes the Kafka protocol itself.
 *
 * - CreateTopics with validate_only: Admin.createTopics always sends validateOnly=false, and
 *   librdkafka's binding has no validate-only option either.
 * - DescribeConfigs / IncrementalAlterConfigs on the cluster-wide broker defaults (the BROKER
 *   resource named ""): Admin routes BROKER resources to the broker whose id is the resource name,
 *   and Number("") is broker 0, which usually does not exist.
 * - ListPartitionReassignments: not in either client's admin API.
 * - ConsumerGroupDescribe (KIP-848 groups): Admin.describeGroups sends only the classic
 *   DescribeGroups, which reports a group of the new "consumer" protocol as dead.
 */
import {
  type Connection,
  consumerGroupDescribeV0,
  createTopicsV7,
  describeConfigsV4,
  incrementalAlterConfigsV1,
  listPartitionReassignmentsV0,
} from "@platformatic/kafka";
import type { KafkaAdmin } from "../admin-client.ts";
import { GROUP_ID_NOT_FOUND, kafkaCall, kafkaFailure } from "./errors.ts";

const TIMEOUT_MS = 10_000;
const BROKER_RESOURCE = 4;

async function brokerConnection(admin: KafkaAdmin, id: number): Promise<Connection> {
  const connections = await kafkaCall(admin.client.connectToBrokers([id]));
  const connection = connections.get(id) ?? [...connections.values()][0];
  if (!connection) throw new Error("no broker connection available");
  return connection;
}

/** A connection to the controller named by metadata (in KRaft, any broker; it forwards). */
async function controllerConnection(admin: KafkaAdmin): Promise<Connection> {
  const metadata = await kafkaCall(admin.client.metadata({ topics: [] }));
  const id = metadata.controllerId >= 0 ? metadata.controllerId : ([...metadata.brokers.keys()][0] ?? 0);
  return brokerConnection(admin, id);
}

export async function validateCreateTopic(
  admin: KafkaAdmin,
  topic: createTopicsV7.CreateTopicsRequestTopic,
): Promise<{ partitions: number; replicationFactor: number }> {
  const connection = await controllerConnection(admin);
  const response = await kafkaCall(createTopicsV7.api.async(connection, [topic], TIMEOUT_MS, true));
  const result = response.topics[0];
  return { partitions: result?.numPartitions ?? -1, replicationFactor: result?.replicationFactor ?? -1 };
}

export async function describeClusterConfigs(admin: KafkaAdmin) {
  const connection = await controllerConnection(admin);
  const response = await kafkaCall(
    describeConfigsV4.api.async(connection, [{ resourceType: BROKER_RESOURCE, resourceName: "" }], true, false),
  );
  return response.results[0]?.configs ?? [];
}

export async function alterClusterConfigs(
  admin: KafkaAdmin,
  configs: incrementalAlterConfigsV1.IncrementalAlterConfigsRequestConfig[],
) {
  const connection = await controllerConnection(admin);
  await kafkaCall(
    incrementalAlterConfigsV1.api.async(
      connection,
      [{ resourceType: BROKER_RESOURCE, resourceName: "", configs }],
      false,
    ),
  );
}

export async function listReassignments(admin: KafkaAdmin) {
  const connection = await controllerConnection(admin);
  const response = await kafkaCall(listPartitionReassignmentsV0.api.async(connection, TIMEOUT_MS, null));
  return response.topics;
}

/** A group of the KIP-848 consumer protocol as its coordinator describes it; null if there is none. */
export async function describeConsumerProtocolGroup(admin: KafkaAdmin, coordinatorId: number, groupId: string) {
  const connection = await brokerConnection(admin, coordinatorId);
  try {
    const response = await consumerGroupDescribeV0.api.async(connection, [groupId], false);
    return response.groups[0] ?? null;
  } catch (error) {
    // Also what a classic group answers: "not a consumer group".
    if (kafkaFailure(error)?.code === GROUP_ID_NOT_FOUND) return null;
    throw error;
  }
}
