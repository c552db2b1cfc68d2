/** Component schemas of the v2 API (docs/api.rst of REST Proxy) and Wharf's operational endpoints. */
import { array, boolean, int64, integer, nullable, object, requestObject, type Schema, string } from "./builders.ts";

const topicPartition = object({ topic: string(), partition: integer() });
const partitionOffset = requestObject({ topic: string(), partition: integer(), offset: int64() }, [
  "topic",
  "partition",
  "offset",
]);
const replica = object({ broker: integer(), leader: boolean(), in_sync: boolean() });

const embeddedData =
  "Base64 (binary), any JSON (json), or for avro/jsonschema/protobuf the value in REST Proxy's JSON " +
  'conversion: Avro\'s JSON encoding (unions as {"type": value}, bytes as code points), JSON that the ' +
  "JSON Schema accepts, Protobuf's JSON mapping. Written in Confluent's wire format (0, schema id, payload).";
const consumedData =
  "Base64 (binary), JSON (json), or for avro/jsonschema/protobuf the record decoded by the schema id it " +
  "carries, as REST Proxy renders it (Avro JSON encoding, the JSON written, Protobuf's JSON printing); null for none.";

export const v2Schemas: Record<string, Schema> = {
  PartitionV2: object({
    partition: integer(),
    leader: integer("Broker id of the leader; -1 when there is none."),
    replicas: array(replica),
  }),
  TopicV2: object({
    name: string(),
    configs: { type: "object", additionalProperties: nullable(string()), description: "Every config's current value." },
    partitions: array({ $ref: "#/components/schemas/PartitionV2" }),
  }),
  BrokerListV2: object({ brokers: array(integer()) }),
  PartitionOffsetsV2: object({ beginning_offset: int64(), end_offset: int64() }),

  ProduceRequestV2: requestObject(
    {
      records: array(
        requestObject(
          {
            key: { description: embeddedData },
            value: { description: embeddedData },
            partition: nullable(integer()),
          },
          [],
        ),
      ),
      key_schema: nullable(
        string(
          "avro/jsonschema/protobuf: the key schema's text (Avro JSON, JSON Schema, .proto), found under " +
            "<topic>-key or registered there (the key subject name strategy decides the subject).",
        ),
      ),
      key_schema_id: nullable(integer("avro/jsonschema/protobuf: a registered schema's id; wins over key_schema.")),
      value_schema: nullable(string("As key_schema, for values (subject <topic>-value).")),
      value_schema_id: nullable(integer("As key_schema_id, for values.")),
    },
    ["records"],
  ),
  ProduceResponseV2: object({
    offsets: array(
      object({
        partition: nullable(integer()),
        offset: nullable(int64()),
        error_code: nullable(integer("Per record: 40401, 40402, 50002, 50003...")),
        error: nullable(string()),
      }),
    ),
    key_schema_id: nullable(integer("The key schema's registry id (schema formats), else null.")),
    value_schema_id: nullable(integer("The value schema's registry id (schema formats), else null.")),
  }),

  CreateConsumerRequest: requestObject(
    {
      name: string("Instance name; generated when absent."),
      id: string("Alias of name."),
      format: { type: "string", enum: ["binary", "json", "avro", "jsonschema", "protobuf"] },
      "auto.offset.reset": { type: "string", enum: ["earliest", "latest", "none", "smallest", "largest"] },
      "auto.commit.enable": { type: ["string", "boolean"] },
      "fetch.min.bytes": { type: ["string", "integer"] },
      responseMinBytes: { type: ["string", "integer"] },
      "consumer.request.timeout.ms": { type: ["string", "integer"] },
      requestWaitMs: { type: ["string", "integer"] },
    },
    [],
  ),
  CreateConsumerResponse: object({
    instance_id: string(),
    base_uri: string("The instance's URL on the cluster's public URL; any node serves it."),
  }),
  SubscriptionRequest: requestObject({ topics: array(string()), topic_pattern: string() }, []),
  SubscriptionResponse: object({ topics: array(string()) }),
  PartitionsRequest: requestObject(
    { partitions: array(requestObject({ topic: string(), partition: integer() }, ["topic", "partition"])) },
    ["partitions"],
  ),
  AssignmentsResponse: object({ partitions: array(topicPartition) }),
  PositionsRequest: requestObject(
    {
      offsets: array(partitionOffset),
      timestamps: array(
        requestObject({ topic: string(), partition: integer(), timestamp: string("ISO 8601.") }, [
          "topic",
          "partition",
          "timestamp",
        ]),
      ),
    },
    [],
  ),
  CommitOffsetsRequest: requestObject({ offsets: array(partitionOffset) }, []),
  CommitOffsetsResponse: { type: "array", maxItems: 0 },
  CommittedOffsetsResponse: object({
    offsets: array(object({ topic: string(), partition: integer(), offset: int64(), metadata: string() })),
  }),
  ConsumerRecords: array(
    object(
      {
        topic: string(),
        key: { description: consumedData },
        value: { description: consumedData },
        partition: integer(),
        offset: int64(),
        timestamp: nullable(int64("Wharf extension (include_metadata=true): epoch milliseconds.")),
        headers: array(
          object({ name: string(), value: string("Base64.") }),
          "Wharf extension (include_metadata=true).",
        ),
      },
      ["timestamp", "headers"],
    ),
  ),

  Health: object({ status: { type: "string", const: "ok" } }),
  Readiness: object({ status: string(), reason: string() }, ["reason"]),
  Root: object({}),
};
