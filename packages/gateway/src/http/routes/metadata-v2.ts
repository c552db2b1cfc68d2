/**
 * REST Proxy v2 metadata: topics, partitions, partition offsets and brokers. (POST on /topics/{topic}
 * and .../partitions/{partition} is produce, in produce-v2.ts.)
 *
 * An unknown topic is 404 / 40401 and an unknown partition 404 / 40402, as REST Proxy's v2 API
 * documents them.
 */
import { type Context, Hono } from "hono";
import { partitionNotFound, topicNotFound } from "../../errors.ts";
import {
  describeCluster,
  describeConfigs,
  findTopic,
  listTopics,
  type PartitionInfo,
  partitionOffsets,
} from "../../kafka/admin/index.ts";
import type { KafkaAdmin } from "../../kafka/admin-client.ts";
import { negotiate, v2ResponseTypes } from "../media-types.ts";
import { parsePartition } from "../params.ts";

interface Deps {
  admin: KafkaAdmin;
}

const partitionData = (p: PartitionInfo) => ({
  partition: p.partition,
  leader: p.leader ?? -1,
  replicas: p.replicas.map((r) => ({ broker: r.brokerId, leader: r.isLeader, in_sync: r.inSync })),
});

export function metadataV2Routes({ admin }: Deps): Hono {
  const app = new Hono();
  const reply = (c: Context, body: unknown) =>
    c.body(JSON.stringify(body), 200, { "content-type": negotiate(c, v2ResponseTypes) });

  const topicOf = async (c: Context) => {
    const name = c.req.param("topic") as string;
    const topic = await findTopic(admin, name);
    if (!topic) throw topicNotFound(name);
    return topic;
  };
  const partitionOf = async (c: Context) => {
    const id = parsePartition(c.req.param("partition"));
    const topic = await topicOf(c);
    const partition = topic.partitions.find((p) => p.partition === id);
    if (!partition) throw partitionNotFound();
    return partition;
  };

  app.get("/topics", async (c) => {
    negotiate(c, v2ResponseTypes);
    return reply(
      c,
      (await listTopics(admin)).map((t) => t.name),
    );
  });

  app.get("/topics/:topic", async (c) => {
    negotiate(c, v2ResponseTypes);
    const topic = await topicOf(c);
    // Every config's current value, defaults included, as REST Proxy lists them.
    const configs = await describeConfigs(admin, { type: "topic", topic: topic.name });
    return reply(c, {
      name: topic.name,
      configs: Object.fromEntries(configs.map((e) => [e.name, e.value])),
      partitions: topic.partitions.map(partitionData),
    });
  });

  app.get("/topics/:topic/partitions", async (c) => {
    negotiate(c, v2ResponseTypes);
    return reply(c, (await topicOf(c)).partitions.map(partitionData));
  });

  app.get("/topics/:topic/partitions/:partition", async (c) => {
    negotiate(c, v2ResponseTypes);
    return reply(c, partitionData(await partitionOf(c)));
  });

  app.get("/topics/:topic/partitions/:partition/offsets", async (c) => {
    negotiate(c, v2ResponseTypes);
    const partition = await partitionOf(c);
    const offsets = (await partitionOffsets(admin, partition.topic, [partition.partition])).get(partition.partition);
    if (!offsets) throw partitionNotFound();
    return reply(c, { beginning_offset: offsets.earliest, end_offset: offsets.latest });
  });

  app.get("/brokers", async (c) => {
    negotiate(c, v2ResponseTypes);
    const { brokers } = await describeCluster(admin);
    return reply(c, { brokers: brokers.map((b) => b.id) });
  });

  return app;
}
