/** v3 consumer groups: groups, their consumers and assignments, per-partition lag and its summary. */
import { type Context, Hono } from "hono";
import {
  type GroupInfo,
  type GroupMemberInfo,
  getGroup,
  groupLags,
  listGroups,
  notFound,
  type PartitionLag,
} from "../../../kafka/admin/index.ts";
import { collection, intParam, type Links, openV3, related, resource, type V3Deps, v3Json } from "./links.ts";

function groupData(links: Links, g: GroupInfo) {
  return {
    ...resource("KafkaConsumerGroup", links.cluster("consumer-groups", g.id), links.crn("consumer-group", g.id)),
    cluster_id: links.clusterId,
    consumer_group_id: g.id,
    is_simple: g.isSimple,
    partition_assignor: g.partitionAssignor,
    state: g.state,
    type: g.type,
    // Whether a KIP-848 group still has classic members; ConsumerGroupDescribe v0 does not say, so
    // Wharf reports false.
    is_mixed_consumer_group: false,
    coordinator: related(links.cluster("brokers", g.coordinatorId)),
    consumers: related(links.cluster("consumer-groups", g.id, "consumers")),
    lag_summary: related(links.cluster("consumer-groups", g.id, "lag-summary")),
  };
}

function consumerData(links: Links, group: string, m: GroupMemberInfo) {
  return {
    ...resource(
      "KafkaConsumer",
      links.cluster("consumer-groups", group, "consumers", m.consumerId),
      links.crn("consumer-group", group, "consumer", m.consumerId),
    ),
    cluster_id: links.clusterId,
    consumer_group_id: group,
    consumer_id: m.consumerId,
    instance_id: m.instanceId,
    client_id: m.clientId,
    assignments: related(links.cluster("consumer-groups", group, "consumers", m.consumerId, "assignments")),
  };
}

function assignmentData(links: Links, group: string, consumer: string, topic: string, partition: number) {
  return {
    ...resource(
      "KafkaConsumerAssignment",
      links.cluster("consumer-groups", group, "consumers", consumer, "assignments", topic, "partitions", partition),
      links.crn("consumer-group", group, "consumer", consumer, "assignment", topic, "partition", partition),
    ),
    cluster_id: links.clusterId,
    consumer_group_id: group,
    consumer_id: consumer,
    topic_name: topic,
    partition_id: partition,
    partition: related(links.cluster("topics", topic, "partitions", partition)),
    lag: related(links.cluster("consumer-groups", group, "lags", topic, "partitions", partition)),
  };
}

function lagData(links: Links, group: string, l: PartitionLag) {
  return {
    ...resource(
      "KafkaConsumerLag",
      links.cluster("consumer-groups", group, "lags", l.topic, "partitions", l.partition),
      links.crn("consumer-group", group, "lag", l.topic, "partition", l.partition),
    ),
    cluster_id: links.clusterId,
    consumer_group_id: group,
    topic_name: l.topic,
    partition_id: l.partition,
    current_offset: l.currentOffset,
    log_end_offset: l.logEndOffset,
    lag: l.lag,
    // An unassigned partition has no consumer; REST Proxy reports empty ids then.
    consumer_id: l.member?.consumerId ?? "",
    instance_id: l.member?.instanceId ?? null,
    client_id: l.member?.clientId ?? "",
  };
}

const byLag = (a: PartitionLag, b: PartitionLag) =>
  b.lag - a.lag || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition);

export function consumerGroupRoutes(deps: V3Deps): Hono {
  const app = new Hono();
  const { admin } = deps;
  const base = "/v3/clusters/:clusterId/consumer-groups";

  const groupOf = async (c: Context, message?: string) => {
    const group = await getGroup(admin, c.req.param("group") as string);
    if (!group) throw notFound(message);
    return group;
  };
  const memberOf = async (c: Context) => {
    const group = await groupOf(c, `Consumer Group ${c.req.param("group")} does not exist.`);
    const member = group.members.find((m) => m.consumerId === c.req.param("consumer"));
    return { group, member };
  };
  const lagsOf = async (c: Context) => {
    const group = await groupOf(c, `Consumer Group ${c.req.param("group")} could not be found.`);
    const lags = await groupLags(admin, group);
    if (!lags) throw notFound("Consumer group offsets could not be found.");
    return { group, lags };
  };

  app.get(base, async (c) => {
    const links = await openV3(c, deps);
    const groups = await listGroups(admin);
    return v3Json(
      c,
      collection(
        "KafkaConsumerGroupList",
        links.cluster("consumer-groups"),
        groups.map((g) => groupData(links, g)),
      ),
    );
  });

  app.get(`${base}/:group`, async (c) => {
    const links = await openV3(c, deps);
    return v3Json(c, groupData(links, await groupOf(c)));
  });

  app.get(`${base}/:group/consumers`, async (c) => {
    const links = await openV3(c, deps);
    const group = await groupOf(c, `Consumer Group ${c.req.param("group")} does not exist.`);
    const consumers = [...group.members]
      .sort((a, b) => (a.consumerId < b.consumerId ? -1 : 1))
      .map((m) => consumerData(links, group.id, m));
    return v3Json(
      c,
      collection("KafkaConsumerList", links.cluster("consumer-groups", group.id, "consumers"), consumers),
    );
  });

  app.get(`${base}/:group/consumers/:consumer`, async (c) => {
    const links = await openV3(c, deps);
    const { group, member } = await memberOf(c);
    if (!member) throw notFound();
    return v3Json(c, consumerData(links, group.id, member));
  });

  app.get(`${base}/:group/consumers/:consumer/assignments`, async (c) => {
    const links = await openV3(c, deps);
    const { group, member } = await memberOf(c);
    if (!member) throw notFound(`Consumer ${c.req.param("consumer")} does not exist.`);
    const data = [...member.assignments]
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
      .map((a) => assignmentData(links, group.id, member.consumerId, a.topic, a.partition));
    return v3Json(
      c,
      collection(
        "KafkaConsumerAssignmentList",
        links.cluster("consumer-groups", group.id, "consumers", member.consumerId, "assignments"),
        data,
      ),
    );
  });

  app.get(`${base}/:group/consumers/:consumer/assignments/:topic/partitions/:partition`, async (c) => {
    const links = await openV3(c, deps);
    const partition = intParam(c, "partition");
    const { group, member } = await memberOf(c);
    if (!member) throw notFound(`Consumer ${c.req.param("consumer")} does not exist.`);
    const topic = c.req.param("topic");
    if (!member.assignments.some((a) => a.topic === topic && a.partition === partition)) throw notFound();
    return v3Json(c, assignmentData(links, group.id, member.consumerId, topic, partition));
  });

  app.get(`${base}/:group/lags`, async (c) => {
    const links = await openV3(c, deps);
    const { group, lags } = await lagsOf(c);
    if (lags.length === 0) throw notFound("Consumer lags not found.");
    return v3Json(
      c,
      collection(
        "KafkaConsumerLagList",
        links.cluster("consumer-groups", group.id, "lags"),
        [...lags].sort(byLag).map((l) => lagData(links, group.id, l)),
      ),
    );
  });

  app.get(`${base}/:group/lags/:topic/partitions/:partition`, async (c) => {
    const links = await openV3(c, deps);
    const partition = intParam(c, "partition");
    const { group, lags } = await lagsOf(c);
    const lag = lags.find((l) => l.topic === c.req.param("topic") && l.partition === partition);
    if (!lag) throw notFound();
    return v3Json(c, lagData(links, group.id, lag));
  });

  app.get(`${base}/:group/lag-summary`, async (c) => {
    const links = await openV3(c, deps);
    const { group, lags } = await lagsOf(c);
    // The first partition with the largest lag, in offset-fetch order, as REST Proxy picks it.
    let max: PartitionLag | null = null;
    for (const l of lags) if (max === null || l.lag > max.lag) max = l;
    const total = lags.reduce((sum, l) => sum + l.lag, 0);
    const consumerId = max?.member?.consumerId ?? "";
    return v3Json(c, {
      ...resource(
        "KafkaConsumerGroupLagSummary",
        links.cluster("consumer-groups", group.id, "lag-summary"),
        links.crn("consumer-group", group.id, "lag-summary", null),
      ),
      cluster_id: links.clusterId,
      consumer_group_id: group.id,
      max_lag_consumer_id: consumerId,
      max_lag_instance_id: max?.member?.instanceId ?? null,
      max_lag_client_id: max?.member?.clientId ?? "",
      max_lag_topic_name: max?.topic ?? "",
      max_lag_partition_id: max?.partition ?? -1,
      max_lag: max?.lag ?? -1,
      total_lag: total,
      max_lag_consumer: related(links.cluster("consumer-groups", group.id, "consumers", consumerId)),
      max_lag_partition: related(links.cluster("topics", max?.topic ?? "", "partitions", max?.partition ?? -1)),
    });
  });

  return app;
}
