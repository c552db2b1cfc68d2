/** GET brokers, one broker, and the partition replicas a broker hosts. */
import { Hono } from "hono";
import { type BrokerInfo, describeCluster, listTopics, notFound } from "../../../kafka/admin/index.ts";
import { collection, intParam, type Links, openV3, related, resource, type V3Deps, v3Json } from "./links.ts";
import { replicaData } from "./partitions.ts";

function brokerData(links: Links, broker: BrokerInfo) {
  return {
    ...resource("KafkaBroker", links.cluster("brokers", broker.id), links.crn("broker", broker.id)),
    cluster_id: links.clusterId,
    broker_id: broker.id,
    host: broker.host,
    port: broker.port,
    rack: broker.rack,
    configs: related(links.cluster("brokers", broker.id, "configs")),
    partition_replicas: related(links.cluster("brokers", broker.id, "partition-replicas")),
  };
}

export function brokerRoutes(deps: V3Deps): Hono {
  const app = new Hono();

  app.get("/v3/clusters/:clusterId/brokers", async (c) => {
    const links = await openV3(c, deps);
    const { brokers } = await describeCluster(deps.admin);
    return v3Json(
      c,
      collection(
        "KafkaBrokerList",
        links.cluster("brokers"),
        brokers.map((b) => brokerData(links, b)),
      ),
    );
  });

  app.get("/v3/clusters/:clusterId/brokers/:brokerId", async (c) => {
    const links = await openV3(c, deps);
    const id = intParam(c, "brokerId");
    const broker = (await describeCluster(deps.admin)).brokers.find((b) => b.id === id);
    if (!broker) throw notFound();
    return v3Json(c, brokerData(links, broker));
  });

  // REST Proxy walks the broker's log dirs; every replica a broker hosts is also in topic
  // metadata, internal topics included, which is what this reads.
  app.get("/v3/clusters/:clusterId/brokers/:brokerId/partition-replicas", async (c) => {
    const links = await openV3(c, deps);
    const id = intParam(c, "brokerId");
    if (!(await describeCluster(deps.admin)).brokers.some((b) => b.id === id)) {
      throw notFound(`Broker ${id} cannot be found.`);
    }
    const topics = await listTopics(deps.admin, { includeInternal: true });
    const replicas = topics.flatMap((t) =>
      t.partitions.flatMap((p) =>
        p.replicas.filter((r) => r.brokerId === id).map((r) => replicaData(links, t.name, p.partition, r)),
      ),
    );
    return v3Json(c, collection("KafkaReplicaList", links.cluster("brokers", id, "partition-replicas"), replicas));
  });

  return app;
}
