/** v3 ACLs against brokers running the StandardAuthorizer (ANONYMOUS is the super user). */
import { beforeAll, describe, expect, it } from "vitest";
import { eventually, expectError, json, v3 } from "./admin-helpers.ts";
import { call, unique } from "./helpers.ts";
import { type Conformance, loadConformance } from "./openapi-conformance.ts";

let doc: Conformance;
beforeAll(async () => {
  doc = await loadConformance();
});

const acl = (principal: string, overrides: Record<string, string> = {}) => ({
  resource_type: "TOPIC",
  resource_name: "adm-acl-",
  pattern_type: "PREFIXED",
  principal,
  host: "*",
  operation: "READ",
  permission: "ALLOW",
  ...overrides,
});

const search = async (query: string) => call("GET", await v3(`/acls?${query}`));

describe("ACLs", () => {
  it("creates one, finds it, and deletes it", async () => {
    const principal = `User:${unique("alice")}`;
    const created = await json("POST", await v3("/acls"), acl(principal));
    doc.check("POST", "/v3/clusters/{cluster_id}/acls", created);
    expect(created.status, created.text).toBe(201);
    const location = created.headers.location as string;
    expect(location).toBe(
      `${await v3("/acls")}?resource_type=TOPIC&resource_name=adm-acl-&pattern_type=PREFIXED&principal=${encodeURIComponent(principal)}&host=*&operation=READ&permission=ALLOW`,
    );

    const found = await eventually(async () => {
      const res = await search(`principal=${encodeURIComponent(principal)}`);
      expect(res.json.data, res.text).toHaveLength(1);
      return res;
    });
    doc.check("GET", "/v3/clusters/{cluster_id}/acls", found);
    expect(found.json.data[0]).toMatchObject({ ...acl(principal), kind: "KafkaAcl", metadata: { self: location } });
    expect(found.json.metadata.self).toContain("resource_type=ANY&resource_name=&pattern_type=ANY");

    // The filter's enums are case-insensitive; MATCH finds prefixed ACLs that cover a name.
    const match = await search(`resource_type=topic&resource_name=adm-acl-orders&pattern_type=match`);
    expect(match.json.data.some((a: { principal: string }) => a.principal === principal)).toBe(true);

    const deleted = await call(
      "DELETE",
      await v3(
        `/acls?resource_type=TOPIC&pattern_type=PREFIXED&resource_name=adm-acl-&principal=${encodeURIComponent(principal)}&operation=READ&permission=ALLOW`,
      ),
    );
    doc.check("DELETE", "/v3/clusters/{cluster_id}/acls", deleted);
    expect(deleted.json.data).toHaveLength(1);
    expect(deleted.json.data[0].principal).toBe(principal);
    await eventually(async () =>
      expect((await search(`principal=${encodeURIComponent(principal)}`)).json.data).toEqual([]),
    );
  });

  it("creates a batch and deletes what a filter matches", async () => {
    const principal = `User:${unique("bob")}`;
    const res = await json("POST", await v3("/acls:batch"), {
      data: [
        acl(principal, { resource_type: "GROUP", resource_name: "adm-group", pattern_type: "LITERAL" }),
        acl(principal, {
          resource_type: "CLUSTER",
          resource_name: "kafka-cluster",
          pattern_type: "LITERAL",
          operation: "DESCRIBE",
          permission: "DENY",
        }),
      ],
    });
    doc.check("POST", "/v3/clusters/{cluster_id}/acls:batch", res);
    expect(res.status, res.text).toBe(204);
    const found = await eventually(async () => {
      const r = await search(`principal=${encodeURIComponent(principal)}`);
      expect(r.json.data).toHaveLength(2);
      return r;
    });
    // REST Proxy's order: by resource type (GROUP before CLUSTER), then name...
    expect(found.json.data.map((a: { resource_type: string }) => a.resource_type)).toEqual(["GROUP", "CLUSTER"]);

    const deleted = await call(
      "DELETE",
      await v3(
        `/acls?resource_type=ANY&pattern_type=ANY&operation=ANY&permission=ANY&principal=${encodeURIComponent(principal)}`,
      ),
    );
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.json.data).toHaveLength(2);
  });

  it("refuses invalid ACLs and filters", async () => {
    const url = await v3("/acls");
    expectError(await json("POST", url, acl("alice")), 400, 40002, /Could not parse principal/);
    expectError(
      await json(
        "POST",
        url,
        acl("User:alice", { resource_type: "CLUSTER", resource_name: "other", pattern_type: "LITERAL" }),
      ),
      400,
      40002,
      "The only valid name for the CLUSTER resource is kafka-cluster",
    );
    expectError(
      await json("POST", url, acl("User:alice", { resource_type: "ANY" })),
      400,
      400,
      "resource_type cannot be ANY",
    );
    expectError(
      await json("POST", url, acl("User:alice", { pattern_type: "MATCH" })),
      400,
      400,
      "pattern_type cannot be MATCH",
    );
    expectError(await json("POST", url, acl("User:alice", { operation: "ANY" })), 400, 400, "operation cannot be ANY");
    expectError(await json("POST", url, acl("User:alice", { permission: "MAYBE" })), 400, 400);
    expectError(await json("POST", url, { resource_type: "TOPIC" }), 400, 400);
    expectError(await json("POST", url, ""), 422, 42206);
    expectError(await json("POST", await v3("/acls:batch"), ""), 422, 42206);
    expectError(await json("POST", await v3("/acls:batch"), { data: [{ resource_type: "TOPIC" }] }), 400, 400);

    // A DELETE must name every enum, so that a bare DELETE cannot remove every ACL.
    expectError(await call("DELETE", url), 400, 400, "resource_type cannot be unspecified or UNKNOWN");
    expectError(
      await call("DELETE", `${url}?resource_type=TOPIC&pattern_type=ANY&operation=ANY`),
      400,
      400,
      "permission cannot be unspecified or UNKNOWN",
    );
    expectError(await search("operation=UNKNOWN"), 400, 400, "operation cannot be UNKNOWN");
    // A value that names no enum constant is 404, a JAX-RS quirk REST Proxy's tests pin down.
    expectError(await search("resource_type=teapot"), 404, 404);
    expectError(await call("DELETE", `${url}?resource_type=teapot`), 404, 404);
  });
});
