/** v3 consumer-group and ACL paths. */
import {
  enumOf,
  errors,
  jsonRequest,
  noBody,
  type Operation,
  ok,
  type Parameter,
  queryParam,
  ref,
  string,
} from "./builders.ts";
import { C, cluster, consumer, get, group, partition, read, topic, write } from "./paths-v3-common.ts";

const aclFilter = (required: boolean): Parameter[] => [
  queryParam(
    "resource_type",
    enumOf(["ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN"]),
    undefined,
    required,
  ),
  queryParam("resource_name", string()),
  queryParam("pattern_type", enumOf(["ANY", "MATCH", "LITERAL", "PREFIXED"]), undefined, required),
  queryParam("principal", string()),
  queryParam("host", string()),
  queryParam("operation", string(), "An ACL operation name (READ, WRITE, ALL, ANY...).", required),
  queryParam("permission", enumOf(["ANY", "DENY", "ALLOW"]), undefined, required),
];

export const v3GroupAndAclPaths: Record<string, Record<string, Operation>> = {
  "/v3/clusters/{cluster_id}/consumer-groups": get(
    "listKafkaConsumerGroups",
    "List consumer groups",
    C.group,
    [cluster],
    "ConsumerGroupDataList",
  ),
  "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}": get(
    "getKafkaConsumerGroup",
    "Get a consumer group",
    C.group,
    [cluster, group],
    "ConsumerGroupData",
  ),
  "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers": get(
    "listKafkaConsumers",
    "List a group's consumers",
    C.group,
    [cluster, group],
    "ConsumerDataList",
  ),
  "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers/{consumer_id}": get(
    "getKafkaConsumer",
    "Get a consumer",
    C.group,
    [cluster, group, consumer],
    "ConsumerData",
  ),
  "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers/{consumer_id}/assignments": get(
    "listKafkaConsumerAssignment",
    "List a consumer's partition assignments",
    C.group,
    [cluster, group, consumer],
    "ConsumerAssignmentDataList",
  ),
  "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers/{consumer_id}/assignments/{topic_name}/partitions/{partition_id}":
    get(
      "getKafkaConsumerAssignment",
      "Get one of a consumer's assignments",
      C.group,
      [cluster, group, consumer, topic, partition],
      "ConsumerAssignmentData",
    ),
  "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lags": get(
    "listKafkaConsumerLags",
    "List a group's lag per partition (largest first)",
    C.group,
    [cluster, group],
    "ConsumerLagDataList",
  ),
  "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lags/{topic_name}/partitions/{partition_id}": get(
    "getKafkaConsumerLag",
    "Get a group's lag on a partition",
    C.group,
    [cluster, group, topic, partition],
    "ConsumerLagData",
  ),
  "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lag-summary": get(
    "getKafkaConsumerGroupLagSummary",
    "Get a group's maximum and total lag",
    C.group,
    [cluster, group],
    "ConsumerGroupLagSummaryData",
  ),

  "/v3/clusters/{cluster_id}/acls": {
    get: {
      operationId: "getKafkaAcls",
      summary: "Search ACLs (an enum value that names nothing is 404, as in REST Proxy)",
      tags: [C.acl],
      parameters: [cluster, ...aclFilter(false)],
      responses: { "200": ok("The ACLs that match.", ref("AclDataList")), ...errors(read) },
    },
    post: {
      operationId: "createKafkaAcls",
      summary: "Create an ACL",
      tags: [C.acl],
      parameters: [cluster],
      requestBody: jsonRequest(ref("CreateAclRequest")),
      responses: {
        "201": {
          description: "Created.",
          headers: { Location: { description: "The ACL's URL.", schema: string() } },
        },
        ...errors(write),
      },
    },
    delete: {
      operationId: "deleteKafkaAcls",
      summary: "Delete the ACLs a filter matches (every enum filter is required)",
      tags: [C.acl],
      parameters: [cluster, ...aclFilter(true)],
      responses: { "200": ok("The deleted ACLs.", ref("DeleteAclsResponse")), ...errors(read) },
    },
  },
  "/v3/clusters/{cluster_id}/acls:batch": {
    post: {
      operationId: "batchCreateKafkaAcls",
      summary: "Create ACLs",
      description: "Confluent's document says 201; REST Proxy (and so Wharf) answers 204.",
      tags: [C.acl],
      parameters: [cluster],
      requestBody: jsonRequest(ref("CreateAclBatchRequest")),
      responses: { "204": noBody("Created."), ...errors(write) },
    },
  },
};
