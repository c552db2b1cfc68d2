/** GET /v3/clusters and /v3/clusters/{cluster_id}: the one cluster Wharf talks to. */
import { Hono } from "hono";
import { type ClusterInfo, describeCluster, notFound } from "../../../kafka/admin/index.ts";
import { negotiate, v3ResponseTypes } from "../../media-types.ts";
import { collection, Links, related, resource, type V3Deps, v3Json } from "./links.ts";

function clusterData(links: Links, cluster: ClusterInfo) {
  return {
    ...resource("KafkaCluster", links.cluster(), links.crn()),
    cluster_id: cluster.id,
    controller: cluster.controllerId === null ? null : related(links.cluster("brokers", cluster.controllerId)),
    acls: related(links.cluster("acls")),
    brokers: related(links.cluster("brokers")),
    broker_configs: related(links.cluster("broker-configs")),
    consumer_groups: related(links.cluster("consumer-groups")),
    topics: related(links.cluster("topics")),
    partition_reassignments: related(links.cluster("topics", "-", "partitions", "-", "reassignment")),
  };
}

export function clusterRoutes(deps: V3Deps): Hono {
  const app = new Hono();
  const base = (url: string) => deps.config.publicUrl ?? new URL(url).origin;

  app.get("/v3/clusters", async (c) => {
    negotiate(c, v3ResponseTypes);
    const cluster = await describeCluster(deps.admin);
    const links = new Links(base(c.req.url), cluster.id);
    return v3Json(c, collection("KafkaClusterList", links.url("v3", "clusters"), [clusterData(links, cluster)]));
  });

  app.get("/v3/clusters/:clusterId", async (c) => {
    negotiate(c, v3ResponseTypes);
    const cluster = await describeCluster(deps.admin);
    // REST Proxy answers a plain 404 here, and "Cluster ... cannot be found." on the routes below it.
    if (cluster.id !== c.req.param("clusterId")) throw notFound();
    return v3Json(c, clusterData(new Links(base(c.req.url), cluster.id), cluster));
  });

  return app;
}
