/** v3 ACLs: search, create one, create a batch, delete what a filter matches. */
import { Hono } from "hono";
import { type AclBinding, type AclFilter, createAcls, deleteAcls, searchAcls } from "../../../kafka/admin/index.ts";
import { negotiate, v3ResponseTypes } from "../../media-types.ts";
import { type Links, openV3, readV3Body, type V3Deps, v3Json } from "./links.ts";
import { readAclBatch, readAclQuery, readCreateAcl } from "./requests.ts";

/** An ACL's (or a search's) URL: the ACL collection with every field as a query parameter. */
function aclUrl(links: Links, acl: AclFilter): string {
  const query = new URLSearchParams({
    resource_type: acl.resourceType,
    resource_name: acl.resourceName ?? "",
    pattern_type: acl.patternType,
    principal: acl.principal ?? "",
    host: acl.host ?? "",
    operation: acl.operation,
    permission: acl.permission,
  });
  return `${links.cluster("acls")}?${query}`;
}

const aclData = (links: Links, acl: AclBinding) => ({
  kind: "KafkaAcl",
  metadata: { self: aclUrl(links, acl) },
  cluster_id: links.clusterId,
  resource_type: acl.resourceType,
  resource_name: acl.resourceName,
  pattern_type: acl.patternType,
  principal: acl.principal,
  host: acl.host,
  operation: acl.operation,
  permission: acl.permission,
});

export function aclRoutes(deps: V3Deps): Hono {
  const app = new Hono();
  const { admin, config } = deps;

  app.get("/v3/clusters/:clusterId/acls", async (c) => {
    negotiate(c, v3ResponseTypes);
    // REST Proxy checks the filter before it looks at the cluster.
    const filter = readAclQuery(c, "search");
    const links = await openV3(c, deps);
    const found = await searchAcls(admin, filter);
    return v3Json(c, {
      kind: "KafkaAclList",
      metadata: { self: aclUrl(links, filter), next: null },
      data: found.map((acl) => aclData(links, acl)),
    });
  });

  app.post("/v3/clusters/:clusterId/acls", async (c) => {
    const links = await openV3(c, deps);
    const acl = readCreateAcl(await readV3Body(c, config));
    await createAcls(admin, [acl]);
    return c.body(null, 201, { location: aclUrl(links, acl) });
  });

  // The OpenAPI document says 201; REST Proxy answers 204, and its own tests expect 204.
  app.post("/v3/clusters/:clusterId/:action{acls:batch}", async (c) => {
    await openV3(c, deps);
    const acls = readAclBatch(await readV3Body(c, config));
    await createAcls(admin, acls);
    return c.body(null, 204);
  });

  app.delete("/v3/clusters/:clusterId/acls", async (c) => {
    negotiate(c, v3ResponseTypes);
    const filter = readAclQuery(c, "delete");
    const links = await openV3(c, deps);
    const deleted = await deleteAcls(admin, filter);
    return v3Json(c, { data: deleted.map((acl) => aclData(links, acl)) });
  });

  return app;
}
