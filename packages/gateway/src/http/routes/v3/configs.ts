/**
 * v3 configs: per topic (and every topic), per broker (and every broker), and the cluster-wide
 * broker defaults REST Proxy calls "broker-configs". Writes answer 204.
 */
import { type Context, Hono } from "hono";
import {
  type AlterConfigCommand,
  alterConfigs,
  type ConfigEntry,
  type ConfigResource,
  describeCluster,
  describeConfigs,
  getConfig,
  listTopics,
  notFound,
} from "../../../kafka/admin/index.ts";
import { collection, intParam, type Links, openV3, readV3Body, resource, type V3Deps, v3Json } from "./links.ts";
import { readAlterBatch, readConfigValue } from "./requests.ts";

const fields = (links: Links, e: ConfigEntry) => ({
  cluster_id: links.clusterId,
  name: e.name,
  value: e.value,
  is_default: e.isDefault,
  is_read_only: e.isReadOnly,
  is_sensitive: e.isSensitive,
  source: e.source,
  synonyms: e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })),
});

const topicConfig = (links: Links, topic: string, e: ConfigEntry) => ({
  ...resource(
    "KafkaTopicConfig",
    links.cluster("topics", topic, "configs", e.name),
    links.crn("topic", topic, "config", e.name),
  ),
  ...fields(links, e),
  topic_name: topic,
});

const brokerConfig = (links: Links, brokerId: number, e: ConfigEntry) => ({
  ...resource(
    "KafkaBrokerConfig",
    links.cluster("brokers", brokerId, "configs", e.name),
    links.crn("broker", brokerId, "config", e.name),
  ),
  ...fields(links, e),
  broker_id: brokerId,
});

const clusterConfig = (links: Links, e: ConfigEntry) => ({
  ...resource("KafkaClusterConfig", links.cluster("broker-configs", e.name), links.crn("broker-config", e.name)),
  ...fields(links, e),
  config_type: "BROKER",
});

export function configRoutes(deps: V3Deps): Hono {
  const app = new Hono();
  const { admin, config } = deps;
  const noContent = (c: Context) => c.body(null, 204);

  /** GET one config, PUT a value, DELETE (reset), and POST a batch, for one kind of resource. */
  const configResource = (
    path: string,
    resourceOf: (c: Context) => ConfigResource,
    render: (links: Links, r: ConfigResource, e: ConfigEntry) => unknown,
    writes: { checkOnPut: boolean; checkOnBatch: boolean; validateOnly: boolean },
  ) => {
    app.get(`${path}/:name`, async (c) => {
      const links = await openV3(c, deps);
      const r = resourceOf(c);
      const entry = await getConfig(admin, r, c.req.param("name"));
      if (!entry) throw notFound();
      return v3Json(c, render(links, r, entry));
    });
    app.put(`${path}/:name`, async (c) => {
      const links = await openV3(c, deps);
      const value = readConfigValue(await readV3Body(c, config));
      const command: AlterConfigCommand = { name: c.req.param("name"), operation: "SET", value };
      await alterConfigs(admin, links.clusterId, resourceOf(c), [command], { checkNames: writes.checkOnPut });
      return noContent(c);
    });
    app.delete(`${path}/:name`, async (c) => {
      const links = await openV3(c, deps);
      const command: AlterConfigCommand = { name: c.req.param("name"), operation: "DELETE", value: null };
      await alterConfigs(admin, links.clusterId, resourceOf(c), [command], { checkNames: true });
      return noContent(c);
    });
    return async (c: Context) => {
      const links = await openV3(c, deps);
      const { commands, validateOnly } = readAlterBatch(await readV3Body(c, config));
      await alterConfigs(admin, links.clusterId, resourceOf(c), commands, {
        checkNames: writes.checkOnBatch,
        // REST Proxy honours validate_only on topic batches only.
        validateOnly: writes.validateOnly && validateOnly,
      });
      return noContent(c);
    };
  };

  // Every topic's configs (internal topics left out, as REST Proxy's topic list leaves them out).
  app.get("/v3/clusters/:clusterId/topics/-/configs", async (c) => {
    const links = await openV3(c, deps);
    const topics = await listTopics(admin);
    const perTopic = await Promise.all(
      topics.map(async (t) =>
        (await describeConfigs(admin, { type: "topic", topic: t.name })).map((e) => topicConfig(links, t.name, e)),
      ),
    );
    return v3Json(c, collection("KafkaTopicConfigList", links.cluster("topics", "-", "configs"), perTopic.flat()));
  });

  app.get("/v3/clusters/:clusterId/brokers/-/configs", async (c) => {
    const links = await openV3(c, deps);
    const { brokers } = await describeCluster(admin);
    const perBroker = await Promise.all(
      brokers.map(async (b) =>
        (await describeConfigs(admin, { type: "broker", brokerId: b.id })).map((e) => brokerConfig(links, b.id, e)),
      ),
    );
    return v3Json(c, collection("KafkaBrokerConfigList", links.cluster("brokers", "-", "configs"), perBroker.flat()));
  });

  // Topic configs.
  const topicOf = (c: Context): ConfigResource => ({ type: "topic", topic: c.req.param("topic") as string });
  app.get("/v3/clusters/:clusterId/topics/:topic/configs", async (c) => {
    const links = await openV3(c, deps);
    const topic = c.req.param("topic");
    const entries = await describeConfigs(admin, topicOf(c));
    return v3Json(
      c,
      collection(
        "KafkaTopicConfigList",
        links.cluster("topics", topic, "configs"),
        entries.map((e) => topicConfig(links, topic, e)),
      ),
    );
  });
  const alterTopic = configResource(
    "/v3/clusters/:clusterId/topics/:topic/configs",
    topicOf,
    (links, r, e) => topicConfig(links, (r as { topic: string }).topic, e),
    { checkOnPut: true, checkOnBatch: true, validateOnly: true },
  );
  app.post("/v3/clusters/:clusterId/topics/:topic/:action{configs:alter}", alterTopic);

  // Broker configs.
  const brokerOf = (c: Context): ConfigResource => ({ type: "broker", brokerId: intParam(c, "brokerId") });
  app.get("/v3/clusters/:clusterId/brokers/:brokerId/configs", async (c) => {
    const links = await openV3(c, deps);
    const r = brokerOf(c) as { brokerId: number };
    const entries = await describeConfigs(admin, { type: "broker", brokerId: r.brokerId });
    return v3Json(
      c,
      collection(
        "KafkaBrokerConfigList",
        links.cluster("brokers", r.brokerId, "configs"),
        entries.map((e) => brokerConfig(links, r.brokerId, e)),
      ),
    );
  });
  const alterBroker = configResource(
    "/v3/clusters/:clusterId/brokers/:brokerId/configs",
    brokerOf,
    (links, r, e) => brokerConfig(links, (r as { brokerId: number }).brokerId, e),
    { checkOnPut: true, checkOnBatch: true, validateOnly: false },
  );
  app.post("/v3/clusters/:clusterId/brokers/:brokerId/:action{configs:alter}", alterBroker);

  // Cluster-wide broker defaults: only dynamic ones are listed, so writes cannot check names first
  // (REST Proxy's "unsafe" upsert); a reset still needs the config to be set.
  app.get("/v3/clusters/:clusterId/broker-configs", async (c) => {
    const links = await openV3(c, deps);
    const entries = await describeConfigs(admin, { type: "cluster" });
    return v3Json(
      c,
      collection(
        "KafkaClusterConfigList",
        links.cluster("broker-configs"),
        entries.map((e) => clusterConfig(links, e)),
      ),
    );
  });
  const alterCluster = configResource(
    "/v3/clusters/:clusterId/broker-configs",
    () => ({ type: "cluster" }),
    (links, _r, e) => clusterConfig(links, e),
    { checkOnPut: false, checkOnBatch: false, validateOnly: false },
  );
  app.post("/v3/clusters/:clusterId/:action{broker-configs:alter}", alterCluster);

  return app;
}
