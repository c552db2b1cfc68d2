/**
 * librdkafka's admin client (@confluentinc/kafka-javascript), created on first use and closed by
 * its owner (KafkaAdmin). Only the calls the management plane uses, as promises.
 *
 * Not used for consumer groups on purpose: in 1.10.1 describeGroups and listConsumerGroupOffsets
 * crash the whole process (SIGSEGV in the native binding) when the group coordinator is not
 * available yet, e.g. on a fresh cluster whose __consumer_offsets does not exist. Reproduced
 * against Kafka 4.3; @platformatic/kafka serves groups instead (see groups.ts).
 */
import Kafka from "@confluentinc/kafka-javascript";
import type { GatewayConfig } from "../../config.ts";

/** Per-call timeout; librdkafka's default is 5 s, short for a 3-broker cluster on a busy machine. */
const TIMEOUT_MS = 10_000;

export interface RdkafkaAdmin {
  listTopics(): Promise<string[]>;
  describeTopics(topics: string[], includeAuthorizedOperations: boolean): Promise<Kafka.TopicDescription[]>;
  deleteTopic(topic: string): Promise<void>;
  createPartitions(topic: string, total: number): Promise<void>;
  listOffsets(
    partitions: Array<{ topic: string; partition: number }>,
    spec: "earliest" | "latest",
    isolation?: "read_committed" | "read_uncommitted",
  ): Promise<Kafka.ListOffsetsResult[]>;
  close(): Promise<void>;
}

type Callback<T> = (error: Kafka.LibrdKafkaError | null, result: T) => void;

export function createRdkafkaAdmin(config: GatewayConfig): RdkafkaAdmin {
  let handle: Kafka.IAdminClient | null = null;
  let closed = false;
  const client = (): Kafka.IAdminClient => {
    if (closed) throw new Error("admin client is closed");
    handle ??= Kafka.AdminClient.create({
      "bootstrap.servers": config.bootstrapServers,
      "client.id": `wharf-${config.id}-admin`,
      ...config.kafka.client,
      ...config.kafka.admin,
    } as Kafka.GlobalConfig);
    return handle;
  };
  const call = <T>(run: (admin: Kafka.IAdminClient, done: Callback<T>) => void) =>
    new Promise<T>((resolve, reject) => {
      run(client(), (error, result) => (error ? reject(error) : resolve(result)));
    });

  return {
    listTopics: () => call<string[]>((admin, done) => admin.listTopics({ timeout: TIMEOUT_MS }, done)),
    describeTopics: (topics, includeAuthorizedOperations) =>
      call<Kafka.TopicDescription[]>((admin, done) =>
        admin.describeTopics(topics, { includeAuthorizedOperations, timeout: TIMEOUT_MS }, done),
      ),
    deleteTopic: (topic) =>
      call<void>((admin, done) => admin.deleteTopic(topic, TIMEOUT_MS, (e) => done(e, undefined))),
    createPartitions: (topic, total) =>
      call<void>((admin, done) => admin.createPartitions(topic, total, TIMEOUT_MS, (e) => done(e, undefined))),
    listOffsets: (partitions, spec, isolation = "read_uncommitted") =>
      call<Kafka.ListOffsetsResult[]>((admin, done) =>
        admin.listOffsets(
          partitions.map((p) => ({
            ...p,
            offset: spec === "earliest" ? Kafka.OffsetSpec.EARLIEST : Kafka.OffsetSpec.LATEST,
          })),
          {
            timeout: TIMEOUT_MS,
            isolationLevel:
              isolation === "read_committed"
                ? Kafka.IsolationLevel.READ_COMMITTED
                : Kafka.IsolationLevel.READ_UNCOMMITTED,
          },
          done,
        ),
      ),
    async close() {
      closed = true;
      handle?.disconnect();
      handle = null;
    },
  };
}
