/**
 * Topics and partitions. librdkafka serves listing, describing, deleting, adding partitions and
 * offsets; creation goes through @platformatic/kafka, whose CreateTopics takes explicit replica
 * assignments and reports the partition count and replication factor the broker chose (librdkafka's
 * binding takes neither assignments nor validate_only, and reports nothing back).
 */
import type Kafka from "@confluentinc/kafka-javascript";
import { RestError } from "../../errors.ts";
import type { KafkaAdmin } from "../admin-client.ts";
import { kafkaCall, toRestError, UNKNOWN_TOPIC_OR_PARTITION } from "./errors.ts";
import { validateCreateTopic } from "./protocol-calls.ts";
import { aclOperations, type NewTopic, type PartitionOffsets, type TopicInfo } from "./types.ts";

/** Kafka's own rule (org.apache.kafka.common.internals.Topic.validate). */
export function isValidTopicName(name: string): boolean {
  return name.length > 0 && name.length <= 249 && name !== "." && name !== ".." && /^[a-zA-Z0-9._-]+$/.test(name);
}

function toTopicInfo(description: Kafka.TopicDescription): TopicInfo {
  const partitions = [...description.partitions]
    .sort((a, b) => a.partition - b.partition)
    .map((p) => {
      const inSync = new Set(p.isr.map((n) => n.id));
      return {
        topic: description.name,
        partition: p.partition,
        leader: p.leader ? p.leader.id : null,
        replicas: p.replicas.map((n) => ({
          brokerId: n.id,
          isLeader: n.id === p.leader?.id,
          inSync: inSync.has(n.id),
        })),
      };
    });
  return {
    name: description.name,
    internal: description.isInternal,
    replicationFactor: partitions[0]?.replicas.length ?? 0,
    partitions,
    authorizedOperations: [...(description.authorizedOperations ?? [])]
      .sort((a, b) => a - b)
      .map((code) => aclOperations[code] ?? "UNKNOWN"),
  };
}

/**
 * Why a topic the producers' metadata does not show is missing: a 403 / 40301 when Wharf's Kafka
 * principal may not describe it (Kafka answers so for a topic that exists and for one that does
 * not), or null when it is simply not there or the broker could not be asked.
 */
export async function topicAccessRefusal(admin: KafkaAdmin, topic: string): Promise<RestError | null> {
  try {
    await describeTopics(admin, [topic]);
    return null;
  } catch (error) {
    return error instanceof RestError && error.status === 403 ? error : null;
  }
}

/** The named topics; unknown ones are left out. */
export async function describeTopics(
  admin: KafkaAdmin,
  names: string[],
  authorizedOperations = false,
): Promise<TopicInfo[]> {
  if (names.length === 0) return [];
  const descriptions = await kafkaCall(admin.rdkafka.describeTopics(names, authorizedOperations));
  const found: TopicInfo[] = [];
  for (const description of descriptions) {
    if (description.error?.code === UNKNOWN_TOPIC_OR_PARTITION) continue;
    if (description.error) throw toRestError(description.error);
    found.push(toTopicInfo(description));
  }
  return found;
}

/** The topic, or null when Kafka does not know it. */
export async function findTopic(admin: KafkaAdmin, name: string, authorizedOperations = false) {
  return (await describeTopics(admin, [name], authorizedOperations))[0] ?? null;
}

/**
 * Every topic, sorted by name. Like the Java admin client's listTopics(), internal topics are left
 * out unless asked for.
 */
export async function listTopics(
  admin: KafkaAdmin,
  options: { includeInternal?: boolean; authorizedOperations?: boolean } = {},
): Promise<TopicInfo[]> {
  const names = await kafkaCall(admin.rdkafka.listTopics());
  const topics = await describeTopics(admin, names, options.authorizedOperations ?? false);
  return topics.filter((t) => options.includeInternal || !t.internal).sort((a, b) => a.name.localeCompare(b.name));
}

export async function createTopic(
  admin: KafkaAdmin,
  topic: NewTopic,
): Promise<{ partitions: number; replicationFactor: number }> {
  const assignments = [...topic.assignments].map(([partition, brokers]) => ({ partition, brokers }));
  const configs = topic.configs.map(({ name, value }) => ({ name, value }));
  let created: { partitions: number; replicationFactor: number };
  if (topic.validateOnly) {
    const explicit = assignments.length > 0;
    created = await validateCreateTopic(admin, {
      name: topic.name,
      numPartitions: explicit ? -1 : (topic.partitions ?? -1),
      replicationFactor: explicit ? -1 : (topic.replicationFactor ?? -1),
      assignments: assignments.map(({ partition, brokers }) => ({ partitionIndex: partition, brokerIds: brokers })),
      configs,
    });
  } else {
    const [result] = await kafkaCall(
      admin.client.createTopics({
        topics: [
          assignments.length > 0
            ? { topic: topic.name, assignments }
            : {
                topic: topic.name,
                partitions: topic.partitions ?? undefined,
                replicas: topic.replicationFactor ?? undefined,
              },
        ],
        configs,
      }),
    );
    created = { partitions: result?.partitions ?? -1, replicationFactor: result?.replicas ?? -1 };
  }
  // KIP-525: without DESCRIBE_CONFIGS the broker does not say what it chose; REST Proxy then
  // reports what was asked for, or 0.
  const firstAssignment = assignments[0]?.brokers.length;
  return {
    partitions: created.partitions >= 0 ? created.partitions : (topic.partitions ?? assignments.length),
    replicationFactor:
      created.replicationFactor >= 0 ? created.replicationFactor : (topic.replicationFactor ?? firstAssignment ?? 0),
  };
}

export async function deleteTopic(admin: KafkaAdmin, name: string): Promise<void> {
  await kafkaCall(admin.rdkafka.deleteTopic(name));
}

/**
 * Raises the partition count, then waits (briefly) until metadata shows it, so the topic the caller
 * reads back has the new partitions.
 */
export async function increasePartitions(admin: KafkaAdmin, name: string, count: number): Promise<TopicInfo | null> {
  await kafkaCall(admin.rdkafka.createPartitions(name, count));
  let topic = await findTopic(admin, name);
  for (let attempt = 0; topic && topic.partitions.length < count && attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    topic = await findTopic(admin, name);
  }
  return topic;
}

/** Earliest and latest offsets of the given partitions of one topic. */
export async function partitionOffsets(
  admin: KafkaAdmin,
  topic: string,
  partitions: number[],
): Promise<Map<number, PartitionOffsets>> {
  const request = partitions.map((partition) => ({ topic, partition }));
  const [earliest, latest] = await Promise.all([
    kafkaCall(admin.rdkafka.listOffsets(request, "earliest")),
    kafkaCall(admin.rdkafka.listOffsets(request, "latest")),
  ]);
  const out = new Map<number, PartitionOffsets>();
  for (const result of earliest) {
    if (result.error) throw toRestError(result.error);
    out.set(result.partition, { earliest: result.offset, latest: result.offset });
  }
  for (const result of latest) {
    if (result.error) throw toRestError(result.error);
    const entry = out.get(result.partition);
    if (entry) entry.latest = result.offset;
  }
  return out;
}
