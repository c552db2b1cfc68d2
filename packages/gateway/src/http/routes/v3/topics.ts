/** v3 topics: list, get, create (validate_only, configs, replicas_assignments), add partitions, delete. */
import { Hono } from "hono";
import {
  createTopic,
  deleteTopic,
  findTopic,
  increasePartitions,
  listTopics,
  unknownTopicOrPartition,
} from "../../../kafka/admin/index.ts";
import { collection, type Links, openV3, readV3Body, related, resource, type V3Deps, v3Json } from "./links.ts";
import { readCreateTopic, readPartitionsCount } from "./requests.ts";

interface TopicSummary {
  name: string;
  internal: boolean;
  replicationFactor: number;
  partitionsCount: number;
  authorizedOperations: string[];
}

export function topicData(links: Links, topic: TopicSummary) {
  return {
    ...resource("KafkaTopic", links.cluster("topics", topic.name), links.crn("topic", topic.name)),
    cluster_id: links.clusterId,
    topic_name: topic.name,
    is_internal: topic.internal,
    replication_factor: topic.replicationFactor,
    partitions_count: topic.partitionsCount,
    partitions: related(links.cluster("topics", topic.name, "partitions")),
    configs: related(links.cluster("topics", topic.name, "configs")),
    partition_reassignments: related(links.cluster("topics", topic.name, "partitions", "-", "reassignment")),
    authorized_operations: topic.authorizedOperations,
  };
}

const summary = (t: NonNullable<Awaited<ReturnType<typeof findTopic>>>): TopicSummary => ({
  ...t,
  partitionsCount: t.partitions.length,
});

export function topicRoutes(deps: V3Deps): Hono {
  const app = new Hono();
  const { admin, config } = deps;

  app.get("/v3/clusters/:clusterId/topics", async (c) => {
    const links = await openV3(c, deps);
    // REST Proxy reads this one in camelCase; the snake_case spelling of the other routes works too.
    const flag = c.req.query("includeAuthorizedOperations") ?? c.req.query("include_authorized_operations");
    const topics = await listTopics(admin, { authorizedOperations: flag === "true" });
    return v3Json(
      c,
      collection(
        "KafkaTopicList",
        links.cluster("topics"),
        topics.map((t) => topicData(links, summary(t))),
      ),
    );
  });

  app.post("/v3/clusters/:clusterId/topics", async (c) => {
    const links = await openV3(c, deps);
    const request = readCreateTopic(await readV3Body(c, config));
    const created = await createTopic(admin, request);
    const body = topicData(links, {
      name: request.name,
      internal: false,
      replicationFactor: created.replicationFactor,
      partitionsCount: created.partitions,
      authorizedOperations: [],
    });
    // 200 for a dry run (nothing was created), 201 otherwise.
    return v3Json(c, body, request.validateOnly ? 200 : 201, { location: body.metadata.self });
  });

  app.get("/v3/clusters/:clusterId/topics/:topic", async (c) => {
    const links = await openV3(c, deps);
    const topic = await findTopic(admin, c.req.param("topic"), c.req.query("include_authorized_operations") === "true");
    if (!topic) throw unknownTopicOrPartition();
    return v3Json(c, topicData(links, summary(topic)));
  });

  app.patch("/v3/clusters/:clusterId/topics/:topic", async (c) => {
    const links = await openV3(c, deps);
    const count = readPartitionsCount(await readV3Body(c, config));
    const topic = await increasePartitions(admin, c.req.param("topic"), count);
    if (!topic) throw unknownTopicOrPartition();
    return v3Json(c, topicData(links, summary(topic)));
  });

  app.delete("/v3/clusters/:clusterId/topics/:topic", async (c) => {
    await openV3(c, deps);
    await deleteTopic(admin, c.req.param("topic"));
    return c.body(null, 204);
  });

  return app;
}
