/** The v2 paths (produce, consumers, metadata), Wharf's extensions and its operational endpoints. */
import {
  enumOf,
  errors,
  integer,
  jsonRequest,
  noBody,
  type Operation,
  ok,
  pathParam,
  queryParam,
  ref,
  string,
} from "./builders.ts";
import { idempotencyKey, withReplayHeader } from "./idempotency.ts";

const V2 = ["application/vnd.kafka.v2+json", "application/vnd.kafka+json", "application/json"];
const embedded = ["binary", "json", "avro", "jsonschema", "protobuf"].map((f) => `application/vnd.kafka.${f}.v2+json`);
const topic = pathParam("topic_name");
const partition = pathParam("partition_id", integer());
const group = pathParam("group_name");
const instance = pathParam("instance", string(), "The consumer instance name.");

const v2Errors = (statuses: string[]) => errors(statuses, V2);
const metadata = (id: string, summary: string, params: ReturnType<typeof pathParam>[], schema: string) => ({
  get: {
    operationId: id,
    summary,
    tags: ["Metadata (v2)"],
    parameters: params,
    responses: { "200": ok(summary, ref(schema), V2), ...v2Errors(["404", "406", "5XX"]) },
  } satisfies Operation,
});

const produce = (id: string, summary: string, params: ReturnType<typeof pathParam>[]) => ({
  operationId: id,
  summary,
  description:
    "Content-Type names the embedded format (application/vnd.kafka.{binary,json,avro,jsonschema," +
    "protobuf}.v2+json; no Content-Type means binary). The schema formats need schema.registry.url: " +
    "key_schema/value_schema (found or registered) or key_schema_id/value_schema_id name the schemas, " +
    "and every record is converted before any is written, so a refusal writes nothing. Answered once " +
    "every record has a delivery report.",
  tags: ["Produce (v2)"],
  parameters: [...params, idempotencyKey],
  requestBody: jsonRequest(ref("ProduceRequestV2"), true, embedded),
  responses: {
    "200": withReplayHeader(
      ok("Offsets, or a per-record error.", ref("ProduceResponseV2"), [
        "application/vnd.kafka.v2+json",
        "application/json",
      ]),
    ),
    ...v2Errors(["400", "403", "404", "406", "409", "413", "415", "422", "429", "5XX"]),
  },
});

const consumerOp = (
  id: string,
  summary: string,
  body: string | null,
  response: { status: "200"; schema: string } | { status: "204" },
  extra: Partial<Operation> = {},
): Operation => ({
  operationId: id,
  summary,
  tags: ["Consumers (v2)"],
  parameters: [group, instance],
  ...(body ? { requestBody: jsonRequest(ref(body), true, V2) } : {}),
  responses: {
    [response.status]: response.status === "200" ? ok(summary, ref(response.schema), V2) : noBody("Done."),
    ...v2Errors(["404", "406", "409", "415", "422", "5XX"]),
  },
  ...extra,
});

const base = "/consumers/{group_name}/instances/{instance}";

export const v2Paths: Record<string, Record<string, Operation>> = {
  "/topics": metadata("listTopicsV2", "List topic names", [], "TopicNamesV2"),
  "/topics/{topic_name}": {
    ...metadata("getTopicV2", "Get a topic's configs and partitions", [topic], "TopicV2"),
    post: produce("produceToTopicV2", "Produce to a topic", [topic]),
  },
  "/topics/{topic_name}/partitions": metadata(
    "listPartitionsV2",
    "List a topic's partitions",
    [topic],
    "PartitionListV2",
  ),
  "/topics/{topic_name}/partitions/{partition_id}": {
    ...metadata("getPartitionV2", "Get a partition", [topic, partition], "PartitionV2"),
    post: produce("produceToPartitionV2", "Produce to a partition", [topic, partition]),
  },
  "/topics/{topic_name}/partitions/{partition_id}/offsets": metadata(
    "getPartitionOffsetsV2",
    "Get a partition's beginning and end offsets",
    [topic, partition],
    "PartitionOffsetsV2",
  ),
  "/brokers": metadata("listBrokersV2", "List broker ids", [], "BrokerListV2"),

  "/consumers/{group_name}": {
    post: {
      operationId: "createConsumerV2",
      summary: "Create a consumer instance",
      description: "Any node serves the instance afterwards: requests are forwarded to the node that owns it.",
      tags: ["Consumers (v2)"],
      parameters: [group],
      requestBody: jsonRequest(ref("CreateConsumerRequest"), false, V2),
      responses: {
        "200": ok("The instance and its URL.", ref("CreateConsumerResponse"), V2),
        ...v2Errors(["406", "409", "415", "422", "5XX"]),
      },
    },
  },
  [base]: { delete: consumerOp("deleteConsumerV2", "Delete a consumer instance", null, { status: "204" }) },
  [`${base}/subscription`]: {
    post: consumerOp("subscribeV2", "Subscribe to topics or a pattern", "SubscriptionRequest", { status: "204" }),
    get: consumerOp("getSubscriptionV2", "Get the subscribed topics", null, {
      status: "200",
      schema: "SubscriptionResponse",
    }),
    delete: consumerOp("unsubscribeV2", "Unsubscribe", null, { status: "204" }),
  },
  [`${base}/assignments`]: {
    post: consumerOp("assignV2", "Assign partitions", "PartitionsRequest", { status: "204" }),
    get: consumerOp("getAssignmentsV2", "Get the assigned partitions", null, {
      status: "200",
      schema: "AssignmentsResponse",
    }),
  },
  [`${base}/positions`]: {
    post: consumerOp("seekV2", "Seek to offsets (or to timestamps, a Wharf extension)", "PositionsRequest", {
      status: "204",
    }),
  },
  [`${base}/positions/beginning`]: {
    post: consumerOp("seekToBeginningV2", "Seek to the beginning", "PartitionsRequest", { status: "204" }),
  },
  [`${base}/positions/end`]: {
    post: consumerOp("seekToEndV2", "Seek to the end", "PartitionsRequest", { status: "204" }),
  },
  [`${base}/records`]: {
    get: consumerOp(
      "consumeRecordsV2",
      "Fetch records",
      null,
      { status: "200", schema: "ConsumerRecords" },
      {
        description:
          "Accept must match the instance's format (application/vnd.kafka.<format>.v2+json). For " +
          "avro/jsonschema/protobuf each record is decoded by its schema id; one that cannot be (not in " +
          "the wire format, unknown id) answers 408 / 40801 once, after the records before it, and is " +
          "then skipped; a Schema Registry that is down answers 503 and hands out nothing. Wharf " +
          "extensions: include_metadata=true adds each record's timestamp and headers; " +
          "Accept: text/event-stream streams records as Server-Sent Events.",
        parameters: [
          group,
          instance,
          queryParam("timeout", integer(), "Milliseconds to wait; only shortens the instance's wait."),
          queryParam("max_bytes", integer(), "Cap on the response's record bytes."),
          queryParam("include_metadata", enumOf(["true", "false"]), "Wharf extension: timestamps and headers."),
        ],
        responses: {
          "200": {
            description: "Records (possibly none).",
            content: {
              ...Object.fromEntries(
                [...embedded, "application/vnd.kafka.v2+json"].map((t) => [t, { schema: ref("ConsumerRecords") }]),
              ),
              "text/event-stream": { schema: string("Server-Sent Events, resumable with Last-Event-ID.") },
            },
          },
          ...v2Errors(["404", "406", "408", "5XX"]),
        },
      },
    ),
  },
  [`${base}/offsets`]: {
    post: consumerOp("commitOffsetsV2", "Commit offsets (all consumed, without a body)", "CommitOffsetsRequest", {
      status: "200",
      schema: "CommitOffsetsResponse",
    }),
    get: consumerOp(
      "getCommittedOffsetsV2",
      "Get committed offsets (partitions in a GET body, as REST Proxy takes them)",
      "PartitionsRequest",
      { status: "200", schema: "CommittedOffsetsResponse" },
    ),
  },

  "/topics/{topic_name}/stream": {
    get: {
      operationId: "streamTopic",
      summary: "Wharf extension: stream a topic as Server-Sent Events, without a consumer group",
      tags: ["Streams (Wharf)"],
      parameters: [
        topic,
        queryParam("partitions", string(), "Comma-separated partition ids; default all."),
        queryParam("from", string(), "earliest, latest (default) or an ISO 8601 time."),
        queryParam(
          "format",
          enumOf(["binary", "json", "string", "avro", "jsonschema", "protobuf"]),
          "avro, jsonschema and protobuf need schema.registry.url; a record that cannot be decoded comes " +
            "with key/value null and an error.",
        ),
      ],
      responses: {
        "200": { description: "The event stream.", content: { "text/event-stream": { schema: string() } } },
        ...errors(["400", "404", "406", "429", "5XX"]),
      },
    },
  },

  "/": {
    get: {
      operationId: "root",
      summary: "An empty object, as REST Proxy answers (clients use it as a ping)",
      tags: ["Operations"],
      responses: { "200": ok("Empty.", ref("Root")) },
    },
  },
  "/healthz": {
    get: {
      operationId: "health",
      summary: "Liveness",
      tags: ["Operations"],
      responses: { "200": ok("The process is alive.", ref("Health")) },
    },
  },
  "/readyz": {
    get: {
      operationId: "readiness",
      summary: "Readiness: producers connected and Kafka reachable, not shutting down",
      tags: ["Operations"],
      responses: {
        "200": ok("Ready.", ref("Readiness")),
        "503": ok("Not ready, and why.", ref("Readiness")),
      },
    },
  },
  "/metrics": {
    get: {
      operationId: "metrics",
      summary: "Prometheus metrics",
      tags: ["Operations"],
      responses: { "200": { description: "Text exposition format.", content: { "text/plain": { schema: string() } } } },
    },
  },
  "/openapi.json": {
    get: {
      operationId: "openApiDocument",
      summary: "This document",
      tags: ["Operations"],
      responses: { "200": ok("OpenAPI 3.1.", { type: "object" }) },
    },
  },
  "/docs": {
    get: {
      operationId: "apiReference",
      summary: "A browsable reference of this document (works offline)",
      tags: ["Operations"],
      responses: { "200": { description: "HTML.", content: { "text/html": { schema: string() } } } },
    },
  },
};

export const v2ListSchemas = {
  TopicNamesV2: { type: "array", items: { type: "string" } },
  PartitionListV2: { type: "array", items: ref("PartitionV2") },
};
