/** v3 partitions, their earliest/latest offsets, replicas, and ongoing replica reassignments. */
import { type Context, Hono } from "hono";
import { partitionNotFound, RestError } from "../../../errors.ts";
import {
  badRequestParam,
  findTopic,
  listReassignments,
  notFound,
  type PartitionInfo,
  partitionOffsets,
  type Reassignment,
  type ReplicaInfo,
} from "../../../kafka/admin/index.ts";
import { collection, intParam, type Links, openV3, related, resource, type V3Deps, v3Json } from "./links.ts";

export function replicaData(links: Links, topic: string, partition: number, replica: ReplicaInfo) {
  return {
    ...resource(
      "KafkaReplica",
      links.cluster("topics", topic, "partitions", partition, "replicas", replica.brokerId),
      links.crn("topic", topic, "partition", partition, "replica", replica.brokerId),
    ),
    cluster_id: links.clusterId,
    topic_name: topic,
    partition_id: partition,
    broker_id: replica.brokerId,
    is_leader: replica.isLeader,
    is_in_sync: replica.inSync,
    broker: related(links.cluster("brokers", replica.brokerId)),
  };
}

function partitionData(links: Links, p: PartitionInfo) {
  const path = ["topics", p.topic, "partitions", p.partition] as const;
  return {
    ...resource("KafkaPartition", links.cluster(...path), links.crn("topic", p.topic, "partition", p.partition)),
    cluster_id: links.clusterId,
    topic_name: p.topic,
    partition_id: p.partition,
    leader: p.leader === null ? null : related(links.cluster(...path, "replicas", p.leader)),
    replicas: related(links.cluster(...path, "replicas")),
    reassignment: related(links.cluster(...path, "reassignment")),
  };
}

/**
 * REST Proxy names the collection and its items ".../reassignments" (plural) when listing, and
 * ".../reassignment" when one is asked for by partition; kept as it is.
 */
function reassignmentData(links: Links, r: Reassignment, leaf: "reassignment" | "reassignments") {
  return {
    ...resource(
      "KafkaReassignment",
      links.cluster("topics", r.topic, "partitions", r.partition, leaf),
      links.crn("topic", r.topic, "partition", r.partition, leaf, null),
    ),
    cluster_id: links.clusterId,
    topic_name: r.topic,
    partition_id: r.partition,
    adding_replicas: r.addingReplicas,
    removing_replicas: r.removingReplicas,
    replicas: related(links.cluster("topics", r.topic, "partitions", r.partition, "replicas")),
  };
}

export function partitionRoutes(deps: V3Deps): Hono {
  const app = new Hono();
  const { admin } = deps;
  const base = "/v3/clusters/:clusterId/topics/:topic/partitions";

  /** The topic's partitions; an unknown topic is 40403 as Kafka words it. */
  const partitionsOf = async (c: Context, partition?: number) => {
    const topic = c.req.param("topic") as string;
    const found = await findTopic(admin, topic);
    if (!found) {
      throw new RestError(
        404,
        40403,
        partition === undefined
          ? "This server does not host this topic-partition."
          : `This server does not host topic-partition ${partition} for topic ${topic}`,
      );
    }
    return found.partitions;
  };

  // Literal "-" segments first: a topic may be called "-", but REST Proxy routes these here.
  app.get("/v3/clusters/:clusterId/topics/-/partitions/-/reassignment", async (c) => {
    const links = await openV3(c, deps);
    const all = await listReassignments(admin);
    return v3Json(
      c,
      collection(
        "KafkaReassignmentList",
        links.cluster("topics", "-", "partitions", "-", "reassignments"),
        all.map((r) => reassignmentData(links, r, "reassignments")),
      ),
    );
  });

  app.get(`${base}/-/reassignment`, async (c) => {
    const links = await openV3(c, deps);
    const topic = c.req.param("topic");
    const found = (await listReassignments(admin)).filter((r) => r.topic === topic);
    return v3Json(
      c,
      collection(
        "KafkaReassignmentList",
        links.cluster("topics", topic, "partitions", "-", "reassignments"),
        found.map((r) => reassignmentData(links, r, "reassignments")),
      ),
    );
  });

  app.get(base, async (c) => {
    const links = await openV3(c, deps);
    const partitions = await partitionsOf(c);
    return v3Json(
      c,
      collection(
        "KafkaPartitionList",
        links.cluster("topics", c.req.param("topic"), "partitions"),
        partitions.map((p) => partitionData(links, p)),
      ),
    );
  });

  app.get(`${base}/:partition`, async (c) => {
    const links = await openV3(c, deps);
    const id = intParam(c, "partition");
    const partition = (await partitionsOf(c, id)).find((p) => p.partition === id);
    if (!partition) throw notFound();
    return v3Json(c, partitionData(links, partition));
  });

  app.get(`${base}/:partition/offset`, async (c) => {
    const links = await openV3(c, deps);
    const id = intParam(c, "partition");
    const offsetType = c.req.query("offset_type") ?? "earliest_and_latest";
    if (offsetType !== "earliest_and_latest") throw badRequestParam(`offset_type:${offsetType} is invalid`);
    const topic = c.req.param("topic");
    if (!(await partitionsOf(c, id)).some((p) => p.partition === id)) throw partitionNotFound();
    const offsets = (await partitionOffsets(admin, topic, [id])).get(id);
    if (!offsets) throw partitionNotFound();
    return v3Json(c, {
      ...resource(
        "KafkaPartitionWithOffsets",
        links.cluster("topics", topic, "partitions", id, "offset"),
        links.crn("topic", topic, "partition", id, "offset_type", offsetType),
      ),
      cluster_id: links.clusterId,
      topic_name: topic,
      partition_id: id,
      earliest_offset: offsets.earliest,
      latest_offset: offsets.latest,
    });
  });

  const replicasOf = async (c: Context, links: Links) => {
    const id = intParam(c, "partition");
    const partition = (await partitionsOf(c, id)).find((p) => p.partition === id);
    if (!partition) {
      throw notFound(
        `Partition ${id} of topic ${c.req.param("topic")} could not be found on cluster ${links.clusterId}.`,
      );
    }
    return partition;
  };

  app.get(`${base}/:partition/replicas`, async (c) => {
    const links = await openV3(c, deps);
    const partition = await replicasOf(c, links);
    return v3Json(
      c,
      collection(
        "KafkaReplicaList",
        links.cluster("topics", partition.topic, "partitions", partition.partition, "replicas"),
        partition.replicas.map((r) => replicaData(links, partition.topic, partition.partition, r)),
      ),
    );
  });

  app.get(`${base}/:partition/replicas/:brokerId`, async (c) => {
    const links = await openV3(c, deps);
    const partition = await replicasOf(c, links);
    const brokerId = intParam(c, "brokerId");
    const replica = partition.replicas.find((r) => r.brokerId === brokerId);
    if (!replica) throw notFound();
    return v3Json(c, replicaData(links, partition.topic, partition.partition, replica));
  });

  app.get(`${base}/:partition/reassignment`, async (c) => {
    const links = await openV3(c, deps);
    const id = intParam(c, "partition");
    const topic = c.req.param("topic");
    const found = (await listReassignments(admin)).find((r) => r.topic === topic && r.partition === id);
    if (!found) throw notFound();
    return v3Json(c, reassignmentData(links, found, "reassignment"));
  });

  return app;
}
