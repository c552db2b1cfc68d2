/** REST Proxy v2 metadata (topics, partitions, offsets, brokers) next to the v2 produce routes. */
import { beforeAll, describe, expect, it } from "vitest";
import { createTopicEverywhere, eventually, expectError } from "./admin-helpers.ts";
import { call, gatewayUrl, lbUrl, stack, unique, V2 } from "./helpers.ts";
import { type Conformance, loadConformance } from "./openapi-conformance.ts";
import { b64, produceV2 } from "./produce-helpers.ts";

let doc: Conformance;
let topic: string;
beforeAll(async () => {
  doc = await loadConformance();
  topic = await createTopicEverywhere(unique("v2-meta"), 3);
});

const get = (path: string, accept = V2) => call("GET", `${lbUrl()}${path}`, { headers: { accept } });

describe("v2 metadata", () => {
  it("lists topic names, without internal topics", async () => {
    const res = await eventually(async () => {
      const r = await get("/topics");
      expect(r.json).toContain(topic);
      return r;
    });
    doc.check("GET", "/topics", res);
    expect(res.headers["content-type"]).toBe(V2);
    expect(res.json.some((name: string) => name.startsWith("__"))).toBe(false);
  });

  it("gets a topic with its configs and partitions", async () => {
    const res = await get(`/topics/${topic}`);
    doc.check("GET", "/topics/{topic_name}", res);
    expect(res.json.name).toBe(topic);
    expect(res.json.configs["cleanup.policy"]).toBe("delete");
    expect(res.json.partitions.map((p: { partition: number }) => p.partition)).toEqual([0, 1, 2]);
    const [first] = res.json.partitions;
    expect(first.replicas).toHaveLength(3);
    expect(first.replicas.find((r: { leader: boolean }) => r.leader).broker).toBe(first.leader);
    expect(first.replicas.every((r: { in_sync: boolean }) => r.in_sync)).toBe(true);
  });

  it("lists and gets partitions", async () => {
    const list = await get(`/topics/${topic}/partitions`);
    doc.check("GET", "/topics/{topic_name}/partitions", list);
    expect(list.json).toHaveLength(3);
    const one = await get(`/topics/${topic}/partitions/2`);
    doc.check("GET", "/topics/{topic_name}/partitions/{partition_id}", one);
    expect(one.json).toEqual(list.json[2]);
  });

  it("reports a partition's offsets after produce, which still works on the same paths", async () => {
    const produced = await produceV2(topic, { records: [{ value: b64("a") }, { value: b64("b") }] }, { partition: 1 });
    doc.check("POST", "/topics/{topic_name}/partitions/{partition_id}", produced);
    expect(produced.status, produced.text).toBe(200);
    const toTopic = await produceV2(topic, { records: [{ value: b64("c"), partition: 1 }] });
    doc.check("POST", "/topics/{topic_name}", toTopic);
    expect(toTopic.json.offsets[0]).toMatchObject({ partition: 1, offset: 2 });
    const res = await get(`/topics/${topic}/partitions/1/offsets`);
    doc.check("GET", "/topics/{topic_name}/partitions/{partition_id}/offsets", res);
    expect(res.json).toEqual({ beginning_offset: 0, end_offset: 3 });
  });

  it("lists broker ids", async () => {
    const res = await call("GET", `${gatewayUrl(1)}/brokers`);
    doc.check("GET", "/brokers", res);
    expect(res.json.brokers.sort()).toEqual(
      stack()
        .brokers.map((b: { id: number }) => b.id)
        .sort(),
    );
  });

  it("answers unknown topics and partitions with 40401 and 40402", async () => {
    const missing = unique("nope");
    for (const path of [
      `/topics/${missing}`,
      `/topics/${missing}/partitions`,
      `/topics/${missing}/partitions/0/offsets`,
    ]) {
      const res = await get(path);
      doc.check("GET", path.replace(missing, "{topic_name}").replace("/0/", "/{partition_id}/"), res);
      expectError(res, 404, 40401);
    }
    expectError(await get(`/topics/${topic}/partitions/3`), 404, 40402, "Partition not found.");
    expectError(await get(`/topics/${topic}/partitions/3/offsets`), 404, 40402);
    expectError(await get(`/topics/${topic}/partitions/x`), 404, 40402);
  });

  it("negotiates the response type as REST Proxy does", async () => {
    expect((await get("/brokers", "application/json")).headers["content-type"]).toBe("application/json");
    expect((await get("/brokers", "application/vnd.kafka+json")).headers["content-type"]).toBe(
      "application/vnd.kafka+json",
    );
    expect((await get("/brokers", "*/*")).headers["content-type"]).toBe(V2);
    expect((await get("/brokers", "text/html")).status).toBe(406);
  });
});
