/**
 * Wharf's OpenAPI document against Wharf: every operation it lists is called once for real and its
 * answer checked against the document (status, content type, JSON schema); at the end no listed
 * operation may be left unvisited.
 */
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokerIds, clusterId, eventually, waitForTopicEverywhere } from "./admin-helpers.ts";
import { call, type HttpResult, lbUrl, unique, V2, V2_BINARY } from "./helpers.ts";
import { type Conformance, loadConformance } from "./openapi-conformance.ts";
import { b64 } from "./produce-helpers.ts";

let doc: Conformance;
const topic = unique("oas");
const group = unique("oas-group");
const instance = "oas-instance";

beforeAll(async () => {
  doc = await loadConformance();
});

/** Calls, checks against the document, and returns the answer. */
async function visit(
  method: string,
  template: string,
  path: string,
  options: { body?: unknown; contentType?: string; accept?: string; expect?: number } = {},
): Promise<HttpResult> {
  const url = path.startsWith("http") ? path : `${lbUrl()}${path}`;
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  if (options.accept) headers.accept = options.accept;
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const res = await call(method, url, { headers, body });
  if (options.expect !== undefined) expect(res.status, `${method} ${path}: ${res.text}`).toBe(options.expect);
  doc.check(method, template, res);
  return res;
}

describe("the document", () => {
  it("is OpenAPI 3.1 and names every route group", () => {
    expect(doc.document).toMatchObject({ openapi: "3.1.0" });
    expect(Object.keys(doc.document.paths).length).toBeGreaterThan(60);
  });

  it("has a reference page that works offline", async () => {
    const res = await visit("GET", "/docs", "/docs", { expect: 200 });
    expect(res.text).toContain("openapi.json");
    // Nothing fetched from elsewhere: no scheme-qualified src or href, no CDN.
    expect(res.text).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    await visit("GET", "/openapi.json", "/openapi.json", { expect: 200 });
  });
});

describe("every operation conforms", () => {
  const cluster = "/v3/clusters/{cluster_id}";
  const t = `${cluster}/topics/{topic_name}`;
  const base = "/consumers/{group_name}/instances/{instance}";
  let c: string;
  let consumerPath: string;

  beforeAll(async () => {
    c = `/v3/clusters/${await clusterId()}`;
    consumerPath = `/consumers/${group}/instances/${instance}`;
  });

  afterAll(async () => {
    await call("DELETE", `${lbUrl()}${consumerPath}`, { headers: { accept: V2 } });
  });

  it("operations", async () => {
    await visit("GET", "/", "/", { expect: 200 });
    await visit("GET", "/healthz", "/healthz", { expect: 200 });
    await visit("GET", "/readyz", "/readyz", { expect: 200 });
    await visit("GET", "/metrics", "/metrics", { expect: 200 });
  });

  it("v3 clusters, brokers and topics", async () => {
    await visit("GET", "/v3/clusters", "/v3/clusters", { expect: 200 });
    await visit("GET", cluster, c, { expect: 200 });
    await visit("GET", `${cluster}/brokers`, `${c}/brokers`, { expect: 200 });
    const broker = brokerIds()[0];
    await visit("GET", `${cluster}/brokers/{broker_id}`, `${c}/brokers/${broker}`, { expect: 200 });
    await visit(
      "GET",
      `${cluster}/brokers/{broker_id}/partition-replicas`,
      `${c}/brokers/${broker}/partition-replicas`,
      {
        expect: 200,
      },
    );
    await visit("POST", `${cluster}/topics`, `${c}/topics`, {
      body: { topic_name: topic, partitions_count: 2, replication_factor: 3 },
      expect: 201,
    });
    await eventually(() => visit("GET", t, `${c}/topics/${topic}`, { expect: 200 }));
    await visit("GET", `${cluster}/topics`, `${c}/topics`, { expect: 200 });
    await visit("PATCH", t, `${c}/topics/${topic}`, { body: { partitions_count: 3 }, expect: 200 });
    await waitForTopicEverywhere(topic, 3);
    await visit("GET", `${t}/partitions`, `${c}/topics/${topic}/partitions`, { expect: 200 });
    await visit("GET", `${t}/partitions/{partition_id}`, `${c}/topics/${topic}/partitions/0`, { expect: 200 });
    await visit("GET", `${t}/partitions/{partition_id}/offset`, `${c}/topics/${topic}/partitions/0/offset`, {
      expect: 200,
    });
    await visit("GET", `${t}/partitions/{partition_id}/replicas`, `${c}/topics/${topic}/partitions/0/replicas`, {
      expect: 200,
    });
    await visit(
      "GET",
      `${t}/partitions/{partition_id}/replicas/{broker_id}`,
      `${c}/topics/${topic}/partitions/0/replicas/${broker}`,
      {
        expect: 200,
      },
    );
    await visit("GET", `${cluster}/topics/-/partitions/-/reassignment`, `${c}/topics/-/partitions/-/reassignment`, {
      expect: 200,
    });
    await visit("GET", `${t}/partitions/-/reassignment`, `${c}/topics/${topic}/partitions/-/reassignment`, {
      expect: 200,
    });
    await visit(
      "GET",
      `${t}/partitions/{partition_id}/reassignment`,
      `${c}/topics/${topic}/partitions/0/reassignment`,
      {
        expect: 404,
      },
    );
  });

  it("v3 configs", async () => {
    const cfg = `${t}/configs`;
    await visit("GET", cfg, `${c}/topics/${topic}/configs`, { expect: 200 });
    await visit("GET", `${cluster}/topics/-/configs`, `${c}/topics/-/configs`, { expect: 200 });
    await visit("PUT", `${cfg}/{name}`, `${c}/topics/${topic}/configs/retention.ms`, {
      body: { value: "100000" },
      expect: 204,
    });
    await visit("GET", `${cfg}/{name}`, `${c}/topics/${topic}/configs/retention.ms`, { expect: 200 });
    await visit("POST", `${t}/configs:alter`, `${c}/topics/${topic}/configs:alter`, {
      body: { data: [{ name: "retention.ms", value: "200000" }] },
      expect: 204,
    });
    await visit("DELETE", `${cfg}/{name}`, `${c}/topics/${topic}/configs/retention.ms`, { expect: 204 });

    const broker = brokerIds()[1];
    const bcfg = `${cluster}/brokers/{broker_id}/configs`;
    await visit("GET", bcfg, `${c}/brokers/${broker}/configs`, { expect: 200 });
    await visit("GET", `${cluster}/brokers/-/configs`, `${c}/brokers/-/configs`, { expect: 200 });
    await visit("PUT", `${bcfg}/{name}`, `${c}/brokers/${broker}/configs/max.connections`, {
      body: { value: "50000" },
      expect: 204,
    });
    await visit("GET", `${bcfg}/{name}`, `${c}/brokers/${broker}/configs/max.connections`, { expect: 200 });
    await visit("POST", `${cluster}/brokers/{broker_id}/configs:alter`, `${c}/brokers/${broker}/configs:alter`, {
      body: { data: [{ name: "max.connections", operation: "DELETE" }] },
      expect: 204,
    });
    await visit("DELETE", `${bcfg}/{name}`, `${c}/brokers/${broker}/configs/max.connections`, { expect: 204 });

    const ccfg = `${cluster}/broker-configs`;
    await visit("PUT", `${ccfg}/{name}`, `${c}/broker-configs/log.cleaner.backoff.ms`, {
      body: { value: "16000" },
      expect: 204,
    });
    await eventually(() =>
      visit("GET", `${ccfg}/{name}`, `${c}/broker-configs/log.cleaner.backoff.ms`, { expect: 200 }),
    );
    await visit("GET", ccfg, `${c}/broker-configs`, { expect: 200 });
    await visit("POST", `${cluster}/broker-configs:alter`, `${c}/broker-configs:alter`, {
      body: { data: [{ name: "log.cleaner.backoff.ms", value: "17000" }] },
      expect: 204,
    });
    await visit("DELETE", `${ccfg}/{name}`, `${c}/broker-configs/log.cleaner.backoff.ms`, { expect: 204 });
  });

  it("produce (v2 and v3), metadata (v2) and a topic stream", async () => {
    const records = { records: [{ value: b64("one") }, { value: b64("two") }] };
    await visit("POST", "/topics/{topic_name}", `/topics/${topic}`, {
      body: records,
      contentType: V2_BINARY,
      expect: 200,
    });
    await visit("POST", "/topics/{topic_name}/partitions/{partition_id}", `/topics/${topic}/partitions/1`, {
      body: records,
      contentType: V2_BINARY,
      expect: 200,
    });
    await visit("POST", `${t}/records`, `/v3/clusters/any/topics/${topic}/records`, {
      body: { value: { type: "STRING", data: "three" } },
      expect: 200,
    });
    await visit("POST", `${t}/records:batch`, `/v3/clusters/any/topics/${topic}/records:batch`, {
      body: { entries: [{ id: "1", value: { type: "JSON", data: { n: 4 } } }] },
      expect: 207,
    });
    await visit("GET", "/topics", "/topics", { expect: 200 });
    await visit("GET", "/topics/{topic_name}", `/topics/${topic}`, { expect: 200 });
    await visit("GET", "/topics/{topic_name}/partitions", `/topics/${topic}/partitions`, { expect: 200 });
    await visit("GET", "/topics/{topic_name}/partitions/{partition_id}", `/topics/${topic}/partitions/1`, {
      expect: 200,
    });
    await visit(
      "GET",
      "/topics/{topic_name}/partitions/{partition_id}/offsets",
      `/topics/${topic}/partitions/1/offsets`,
      {
        expect: 200,
      },
    );
    await visit("GET", "/brokers", "/brokers", { expect: 200 });

    // An event stream never ends by itself: check the head, then hang up.
    const stream = await request(`${lbUrl()}/topics/${topic}/stream?from=earliest`, {
      headers: { accept: "text/event-stream" },
    });
    doc.check("GET", "/topics/{topic_name}/stream", {
      status: stream.statusCode,
      headers: stream.headers,
      json: undefined,
      text: "",
    });
    stream.body.destroy();
  });

  it("consumers (v2) and consumer groups (v3)", async () => {
    await visit("POST", "/consumers/{group_name}", `/consumers/${group}`, {
      body: { name: instance, format: "binary", "auto.offset.reset": "earliest", "auto.commit.enable": "false" },
      contentType: V2,
      expect: 200,
    });
    await visit("POST", `${base}/subscription`, `${consumerPath}/subscription`, {
      body: { topics: [topic] },
      contentType: V2,
      expect: 204,
    });
    await visit("GET", `${base}/subscription`, `${consumerPath}/subscription`, { expect: 200 });
    const records = await eventually(async () => {
      const res = await visit("GET", `${base}/records`, `${consumerPath}/records?timeout=1000&include_metadata=true`, {
        accept: V2_BINARY,
        expect: 200,
      });
      expect(res.json.length).toBeGreaterThan(0);
      return res.json as Array<{ topic: string; partition: number; offset: number }>;
    }, 30_000);
    const last = records[records.length - 1] as { topic: string; partition: number; offset: number };
    await visit("POST", `${base}/offsets`, `${consumerPath}/offsets`, {
      body: { offsets: [{ topic, partition: last.partition, offset: last.offset }] },
      contentType: V2,
      expect: 200,
    });
    await visit("GET", `${base}/offsets`, `${consumerPath}/offsets`, {
      body: { partitions: [{ topic, partition: last.partition }] },
      contentType: V2,
      expect: 200,
    });

    const g = `${cluster}/consumer-groups/{consumer_group_id}`;
    const gp = `${c}/consumer-groups/${group}`;
    await visit("GET", `${cluster}/consumer-groups`, `${c}/consumer-groups`, { expect: 200 });
    await visit("GET", g, gp, { expect: 200 });
    const members = await visit("GET", `${g}/consumers`, `${gp}/consumers`, { expect: 200 });
    const member = encodeURIComponent(members.json.data[0].consumer_id as string);
    await visit("GET", `${g}/consumers/{consumer_id}`, `${gp}/consumers/${member}`, { expect: 200 });
    const assigned = await visit(
      "GET",
      `${g}/consumers/{consumer_id}/assignments`,
      `${gp}/consumers/${member}/assignments`,
      {
        expect: 200,
      },
    );
    const first = assigned.json.data[0];
    await visit(
      "GET",
      `${g}/consumers/{consumer_id}/assignments/{topic_name}/partitions/{partition_id}`,
      `${gp}/consumers/${member}/assignments/${first.topic_name}/partitions/${first.partition_id}`,
      { expect: 200 },
    );
    await eventually(() => visit("GET", `${g}/lags`, `${gp}/lags`, { expect: 200 }));
    await visit(
      "GET",
      `${g}/lags/{topic_name}/partitions/{partition_id}`,
      `${gp}/lags/${topic}/partitions/${last.partition}`,
      {
        expect: 200,
      },
    );
    await visit("GET", `${g}/lag-summary`, `${gp}/lag-summary`, { expect: 200 });

    const partitions = { partitions: [{ topic, partition: 0 }] };
    await visit("POST", `${base}/positions`, `${consumerPath}/positions`, {
      body: { offsets: [{ topic, partition: last.partition, offset: 0 }] },
      contentType: V2,
      expect: 204,
    });
    await visit("POST", `${base}/positions/beginning`, `${consumerPath}/positions/beginning`, {
      body: { partitions: [{ topic, partition: last.partition }] },
      contentType: V2,
      expect: 204,
    });
    await visit("POST", `${base}/positions/end`, `${consumerPath}/positions/end`, {
      body: { partitions: [{ topic, partition: last.partition }] },
      contentType: V2,
      expect: 204,
    });
    await visit("DELETE", `${base}/subscription`, `${consumerPath}/subscription`, { expect: 204 });
    await visit("POST", `${base}/assignments`, `${consumerPath}/assignments`, {
      body: partitions,
      contentType: V2,
      expect: 204,
    });
    await visit("GET", `${base}/assignments`, `${consumerPath}/assignments`, { expect: 200 });
    await visit("DELETE", base, consumerPath, { expect: 204 });
  });

  it("ACLs, and deleting the topic", async () => {
    const principal = `User:${unique("oas")}`;
    const entry = {
      resource_type: "TOPIC",
      resource_name: topic,
      pattern_type: "LITERAL",
      principal,
      host: "*",
      operation: "WRITE",
      permission: "ALLOW",
    };
    await visit("POST", `${cluster}/acls`, `${c}/acls`, { body: entry, expect: 201 });
    await visit("POST", `${cluster}/acls:batch`, `${c}/acls:batch`, {
      body: { data: [{ ...entry, operation: "READ" }] },
      expect: 204,
    });
    const query = `principal=${encodeURIComponent(principal)}`;
    await eventually(async () => {
      const res = await visit("GET", `${cluster}/acls`, `${c}/acls?${query}`, { expect: 200 });
      expect(res.json.data).toHaveLength(2);
    });
    const deleted = await visit(
      "DELETE",
      `${cluster}/acls`,
      `${c}/acls?resource_type=TOPIC&pattern_type=LITERAL&operation=ANY&permission=ANY&${query}`,
      { expect: 200 },
    );
    expect(deleted.json.data).toHaveLength(2);
    await visit("DELETE", t, `${c}/topics/${topic}`, { expect: 204 });
    // Errors are documented too.
    await eventually(() => visit("GET", t, `${c}/topics/${topic}`, { expect: 404 }));
  });

  it("left no documented operation unvisited", () => {
    const listed = Object.entries(doc.document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(listed.filter((op) => !doc.visited.has(op))).toEqual([]);
  });
});
