/** v3 clusters, brokers and topics against the real 3-broker cluster, through haproxy. */
import { beforeAll, describe, expect, it } from "vitest";
import {
  brokerIds,
  clusterId,
  createTopicEverywhere,
  eventually,
  expectError,
  json,
  v3,
  waitForTopicEverywhere,
} from "./admin-helpers.ts";
import { call, lbUrl, stack, unique } from "./helpers.ts";
import { type Conformance, loadConformance } from "./openapi-conformance.ts";

let doc: Conformance;
beforeAll(async () => {
  doc = await loadConformance();
});

describe("clusters", () => {
  it("lists the one cluster, with links built from the request's origin", async () => {
    const res = await call("GET", `${lbUrl()}/v3/clusters`);
    doc.check("GET", "/v3/clusters", res);
    expect(res.json.kind).toBe("KafkaClusterList");
    expect(res.json.data).toHaveLength(1);
    const cluster = res.json.data[0];
    const id = await clusterId();
    expect(cluster.metadata).toEqual({ self: `${lbUrl()}/v3/clusters/${id}`, resource_name: `crn:///kafka=${id}` });
    expect(cluster.brokers.related).toBe(`${lbUrl()}/v3/clusters/${id}/brokers`);
    expect(cluster.partition_reassignments.related).toBe(
      `${lbUrl()}/v3/clusters/${id}/topics/-/partitions/-/reassignment`,
    );
    const controller = Number(cluster.controller.related.split("/").pop());
    expect(brokerIds()).toContain(controller);
  });

  it("gets the cluster by id; an unknown id is 404", async () => {
    const res = await call("GET", await v3());
    doc.check("GET", "/v3/clusters/{cluster_id}", res);
    expect(res.json.cluster_id).toBe(await clusterId());
    expectError(await call("GET", `${lbUrl()}/v3/clusters/nope`), 404, 404, "HTTP 404 Not Found");
    expectError(await call("GET", `${lbUrl()}/v3/clusters/nope/topics`), 404, 404, "Cluster nope cannot be found.");
  });
});

describe("brokers", () => {
  it("lists and gets brokers with host and port", async () => {
    const list = await call("GET", await v3("/brokers"));
    doc.check("GET", "/v3/clusters/{cluster_id}/brokers", list);
    const ports = stack().brokers.map((b: { port: number }) => b.port);
    expect(list.json.data.map((b: { port: number }) => b.port).sort()).toEqual([...ports].sort());
    const first = list.json.data[0];
    const one = await call("GET", await v3(`/brokers/${first.broker_id}`));
    doc.check("GET", "/v3/clusters/{cluster_id}/brokers/{broker_id}", one);
    expect(one.json).toEqual(first);
    expectError(await call("GET", await v3("/brokers/999")), 404, 404);
    expectError(await call("GET", await v3("/brokers/one")), 404, 404);
  });

  it("lists the replicas a broker hosts", async () => {
    const topic = await createTopicEverywhere(unique("adm-replicas"), 3);
    const brokerId = brokerIds()[0];
    const res = await call("GET", await v3(`/brokers/${brokerId}/partition-replicas`));
    doc.check("GET", "/v3/clusters/{cluster_id}/brokers/{broker_id}/partition-replicas", res);
    const mine = res.json.data.filter((r: { topic_name: string }) => r.topic_name === topic);
    // Replication factor 3 on 3 brokers: every partition has a replica on every broker.
    expect(mine.map((r: { partition_id: number }) => r.partition_id).sort()).toEqual([0, 1, 2]);
    expect(mine.every((r: { broker_id: number }) => r.broker_id === brokerId)).toBe(true);
    expectError(
      await call("GET", await v3("/brokers/999/partition-replicas")),
      404,
      404,
      "Broker 999 cannot be found.",
    );
  });
});

describe("topics", () => {
  it("creates a topic with configs, lists it, gets it, and refuses a duplicate", async () => {
    const name = unique("adm-create");
    const res = await json("POST", await v3("/topics"), {
      topic_name: name,
      partitions_count: 2,
      replication_factor: 3,
      configs: [{ name: "cleanup.policy", value: "compact" }],
    });
    doc.check("POST", "/v3/clusters/{cluster_id}/topics", res);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(await v3(`/topics/${name}`));
    expect(res.json).toMatchObject({
      topic_name: name,
      partitions_count: 2,
      replication_factor: 3,
      is_internal: false,
    });

    // Brokers learn of a new topic a moment after the controller created it.
    const list = await eventually(async () => {
      const r = await call("GET", await v3("/topics"));
      expect(r.json.data.map((t: { topic_name: string }) => t.topic_name)).toContain(name);
      return r;
    });
    doc.check("GET", "/v3/clusters/{cluster_id}/topics", list);
    const names = list.json.data.map((t: { topic_name: string }) => t.topic_name);
    expect(names).toEqual([...names].sort());
    expect(names.some((n: string) => n.startsWith("__"))).toBe(false);

    const one = await eventually(async () => {
      const r = await call("GET", await v3(`/topics/${name}`));
      expect(r.status).toBe(200);
      return r;
    });
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}", one);
    expect(one.json).toMatchObject({ partitions_count: 2, replication_factor: 3, authorized_operations: [] });
    await waitForTopicEverywhere(name, 2);
    const config = await call("GET", await v3(`/topics/${name}/configs/cleanup.policy`));
    expect(config.json.value).toBe("compact");

    const duplicate = await json("POST", await v3("/topics"), { topic_name: name });
    doc.check("POST", "/v3/clusters/{cluster_id}/topics", duplicate);
    expectError(duplicate, 400, 40002, `Topic '${name}' already exists.`);
  });

  it("reports authorized operations when asked", async () => {
    const name = await createTopicEverywhere(unique("adm-authz"), 1);
    const res = await call("GET", await v3(`/topics/${name}?include_authorized_operations=true`));
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}", res);
    // ANONYMOUS is a super user on the test cluster.
    expect(res.json.authorized_operations).toEqual(expect.arrayContaining(["READ", "WRITE", "DESCRIBE", "ALTER"]));
  });

  it("creates with explicit replica assignments", async () => {
    const name = unique("adm-assign");
    const [a, b, c] = brokerIds();
    const res = await json("POST", await v3("/topics"), {
      topic_name: name,
      replicas_assignments: { 0: [a, b], 1: [b, c] },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ partitions_count: 2, replication_factor: 2 });
    const replicas = await eventually(async () => {
      const r = await call("GET", await v3(`/topics/${name}/partitions/1/replicas`));
      expect(r.status).toBe(200);
      return r.json.data.map((x: { broker_id: number }) => x.broker_id);
    });
    expect(replicas).toEqual([b, c]);
  });

  it("validate_only answers 200 and creates nothing", async () => {
    const name = unique("adm-dry");
    const res = await json("POST", await v3("/topics"), { topic_name: name, partitions_count: 5, validate_only: true });
    doc.check("POST", "/v3/clusters/{cluster_id}/topics", res);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ topic_name: name, partitions_count: 5, replication_factor: 3 });
    expectError(await call("GET", await v3(`/topics/${name}`)), 404, 40403);
    // A dry run still finds what a real creation would refuse.
    const bad = await json("POST", await v3("/topics"), {
      topic_name: name,
      replication_factor: 9,
      validate_only: true,
    });
    expectError(bad, 400, 40002, /replication factor/i);
  });

  it("refuses bad creations with REST Proxy's codes", async () => {
    const url = await v3("/topics");
    expectError(await json("POST", url, { topic_name: "bad name!" }), 422, 42206, "Payload error. Invalid topic name.");
    expectError(await json("POST", url, { topic_name: unique("adm-rf"), replication_factor: 9 }), 400, 40002);
    expectError(await json("POST", url, { topic_name: unique("adm-p"), partitions_count: 0 }), 400, 40002);
    const invalidConfig = await json("POST", url, {
      topic_name: unique("adm-c"),
      configs: [{ name: "no.such", value: "1" }],
    });
    expectError(invalidConfig, 400, 40002, "Unknown topic config name: no.such");
    const badValue = await json("POST", url, {
      topic_name: unique("adm-v"),
      configs: [{ name: "retention.ms", value: "soon" }],
    });
    expectError(badValue, 400, 40002, /Invalid value soon for configuration retention.ms/);
    expectError(await json("POST", url, ""), 422, 42206, "Payload error. Request body is empty. Data is required.");
    expectError(await json("POST", url, { topic_name: "x", colour: "red" }), 422, 422, "Unrecognized field: colour");
    expectError(await json("POST", url, { topic_name: "x", partitions_count: "A" }), 400, 400);
    expectError(await json("POST", url, { partitions_count: 1 }), 400, 400);
    expectError(await json("POST", url, "{nope"), 400, 400);
    const wrongType = await call("POST", url, { headers: { "content-type": "text/plain" }, body: "{}" });
    expect(wrongType.status).toBe(415);
  });

  it("increases the partition count, and refuses a decrease", async () => {
    const name = await createTopicEverywhere(unique("adm-grow"), 2);
    const res = await json("PATCH", await v3(`/topics/${name}`), { partitions_count: 4 });
    doc.check("PATCH", "/v3/clusters/{cluster_id}/topics/{topic_name}", res);
    expect(res.status, res.text).toBe(200);
    expect(res.json.partitions_count).toBe(4);
    const shrink = await json("PATCH", await v3(`/topics/${name}`), { partitions_count: 3 });
    doc.check("PATCH", "/v3/clusters/{cluster_id}/topics/{topic_name}", shrink);
    expectError(shrink, 400, 40002, /currently has 4 partition/);
    expectError(await json("PATCH", await v3(`/topics/${unique("nope")}`), { partitions_count: 5 }), 404, 40403);
    expectError(
      await json("PATCH", await v3(`/topics/${name}`), ""),
      422,
      42206,
      "Payload error. Request body is empty. Partitions_count is required.",
    );
  });

  it("deletes a topic; an unknown one is 40403", async () => {
    const name = await createTopicEverywhere(unique("adm-del"), 1);
    const res = await call("DELETE", await v3(`/topics/${name}`));
    doc.check("DELETE", "/v3/clusters/{cluster_id}/topics/{topic_name}", res);
    expect(res.status).toBe(204);
    await eventually(async () => expectError(await call("GET", await v3(`/topics/${name}`)), 404, 40403));
    const again = await call("DELETE", await v3(`/topics/${name}`));
    expectError(again, 404, 40403, "This server does not host this topic-partition.");
  });

  it("answers 406 when the client accepts no JSON", async () => {
    const res = await call("GET", await v3("/topics"), { headers: { accept: "text/html" } });
    expect(res.status).toBe(406);
  });
});
