/** v3 configs: per topic, per broker and cluster-wide broker defaults, with their error cases. */
import { beforeAll, describe, expect, it } from "vitest";
import { brokerIds, clusterId, createTopicEverywhere, eventually, expectError, json, v3 } from "./admin-helpers.ts";
import { call, stack, unique } from "./helpers.ts";
import { type Conformance, loadConformance } from "./openapi-conformance.ts";

let doc: Conformance;
beforeAll(async () => {
  doc = await loadConformance();
});

const configValue = async (url: string) => {
  const res = await call("GET", url);
  return res.status === 200 ? res.json.value : `HTTP ${res.status}`;
};

describe("topic configs", () => {
  it("lists, gets, sets and resets a topic's configs", async () => {
    const topic = await createTopicEverywhere(unique("adm-cfg"), 1);
    const list = await call("GET", await v3(`/topics/${topic}/configs`));
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}/configs", list);
    const names = list.json.data.map((c: { name: string }) => c.name);
    expect(names).toContain("retention.ms");
    expect(names).toEqual([...names].sort());

    const url = await v3(`/topics/${topic}/configs/retention.ms`);
    const before = await call("GET", url);
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}/configs/{name}", before);
    expect(before.json).toMatchObject({ topic_name: topic, is_default: true, source: "DEFAULT_CONFIG" });

    const put = await json("PUT", url, { value: "3600000" });
    doc.check("PUT", "/v3/clusters/{cluster_id}/topics/{topic_name}/configs/{name}", put);
    expect(put.status).toBe(204);
    // Any broker may answer a describe, and each applies the change from the metadata log on its
    // own time: check the whole answer inside the wait.
    await eventually(async () => {
      const after = await call("GET", url);
      expect(after.json).toMatchObject({ value: "3600000", is_default: false, source: "DYNAMIC_TOPIC_CONFIG" });
      expect(after.json.synonyms[0]).toEqual({
        name: "retention.ms",
        value: "3600000",
        source: "DYNAMIC_TOPIC_CONFIG",
      });
    });

    const reset = await call("DELETE", url);
    doc.check("DELETE", "/v3/clusters/{cluster_id}/topics/{topic_name}/configs/{name}", reset);
    expect(reset.status).toBe(204);
    await eventually(async () => expect((await call("GET", url)).json.source).toBe("DEFAULT_CONFIG"));
  });

  it("alters in a batch, and validate_only changes nothing", async () => {
    const topic = await createTopicEverywhere(unique("adm-batch"), 1);
    const alter = await v3(`/topics/${topic}/configs:alter`);
    const dry = await json("POST", alter, {
      data: [{ name: "cleanup.policy", value: "compact" }],
      validate_only: true,
    });
    doc.check("POST", "/v3/clusters/{cluster_id}/topics/{topic_name}/configs:alter", dry);
    expect(dry.status).toBe(204);
    const policy = await v3(`/topics/${topic}/configs/cleanup.policy`);
    expect(await configValue(policy)).toBe("delete");

    const res = await json("POST", alter, {
      data: [
        { name: "cleanup.policy", value: "compact" },
        { name: "retention.ms", operation: "SET", value: "7200000" },
      ],
    });
    expect(res.status, res.text).toBe(204);
    await eventually(async () => expect(await configValue(policy)).toBe("compact"));
    await json("POST", alter, { data: [{ name: "cleanup.policy", operation: "DELETE" }] });
    await eventually(async () => expect(await configValue(policy)).toBe("delete"));
    const retention = await v3(`/topics/${topic}/configs/retention.ms`);
    await eventually(async () => expect(await configValue(retention)).toBe("7200000"));
  });

  it("refuses invalid names and values, and unknown topics", async () => {
    const topic = await createTopicEverywhere(unique("adm-bad"), 1);
    const id = await clusterId();
    const put = async (name: string, value: string) =>
      json("PUT", await v3(`/topics/${topic}/configs/${name}`), { value });
    expectError(
      await put("no.such.config", "1"),
      404,
      404,
      `Config no.such.config cannot be found for TOPIC ${topic} in cluster ${id}.`,
    );
    expectError(
      await put("retention.ms", "forever"),
      400,
      40002,
      /Invalid value forever for configuration retention.ms/,
    );
    const batch = await json("POST", await v3(`/topics/${topic}/configs:alter`), {
      data: [{ name: "cleanup.policy", value: "sometimes" }],
      validate_only: true,
    });
    expectError(batch, 400, 40002, /Invalid value sometimes for configuration cleanup.policy/);
    const unknownName = await json("POST", await v3(`/topics/${topic}/configs:alter`), {
      data: [{ name: "nope.nope", value: "1" }],
    });
    expectError(unknownName, 404, 404);
    expectError(await json("POST", await v3(`/topics/${topic}/configs:alter`), ""), 422, 42206);
    expectError(
      await json("POST", await v3(`/topics/${topic}/configs:alter`), { data: [{ name: "x", operation: "APPEND" }] }),
      400,
      400,
    );
    expectError(await call("GET", await v3(`/topics/${topic}/configs/nope.nope`)), 404, 404);
    const missing = unique("nope");
    expectError(await call("GET", await v3(`/topics/${missing}/configs`)), 404, 40403);
    expectError(await json("PUT", await v3(`/topics/${missing}/configs/retention.ms`), { value: "1" }), 404, 40403);
  });

  it("lists every topic's configs", async () => {
    const topic = await createTopicEverywhere(unique("adm-all"), 1);
    const res = await eventually(async () => {
      const r = await call("GET", await v3("/topics/-/configs"));
      expect(r.json.data.some((c: { topic_name: string }) => c.topic_name === topic)).toBe(true);
      return r;
    });
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/-/configs", res);
    expect(res.json.metadata.self).toBe(await v3("/topics/-/configs"));
  });
});

describe("broker configs", () => {
  it("lists, gets, sets, resets and alters a broker's configs", async () => {
    const broker = brokerIds()[0];
    const list = await call("GET", await v3(`/brokers/${broker}/configs`));
    doc.check("GET", "/v3/clusters/{cluster_id}/brokers/{broker_id}/configs", list);
    expect(list.json.data.find((c: { name: string }) => c.name === "broker.id")?.value).toBe(String(broker));

    const url = await v3(`/brokers/${broker}/configs/max.connections`);
    const get = await call("GET", url);
    doc.check("GET", "/v3/clusters/{cluster_id}/brokers/{broker_id}/configs/{name}", get);
    try {
      const put = await json("PUT", url, { value: "100000" });
      doc.check("PUT", "/v3/clusters/{cluster_id}/brokers/{broker_id}/configs/{name}", put);
      expect(put.status, put.text).toBe(204);
      await eventually(async () => expect(await configValue(url)).toBe("100000"));
      expect((await call("GET", url)).json.source).toBe("DYNAMIC_BROKER_CONFIG");

      const alter = await json("POST", await v3(`/brokers/${broker}/configs:alter`), {
        data: [{ name: "max.connections", value: "90000" }],
      });
      doc.check("POST", "/v3/clusters/{cluster_id}/brokers/{broker_id}/configs:alter", alter);
      expect(alter.status, alter.text).toBe(204);
      await eventually(async () => expect(await configValue(url)).toBe("90000"));
    } finally {
      const reset = await call("DELETE", url);
      doc.check("DELETE", "/v3/clusters/{cluster_id}/brokers/{broker_id}/configs/{name}", reset);
      expect(reset.status).toBe(204);
    }
  });

  it("refuses read-only configs, invalid values and unknown brokers", async () => {
    const broker = brokerIds()[0];
    const readOnly = await json("PUT", await v3(`/brokers/${broker}/configs/broker.id`), { value: "77" });
    expectError(readOnly, 400, 40002, /Cannot update these configs dynamically/);
    const badValue = await json("PUT", await v3(`/brokers/${broker}/configs/max.connections`), { value: "many" });
    expectError(badValue, 400, 40002);
    expectError(await call("GET", await v3("/brokers/999/configs")), 404, 404, "Broker 999 cannot be found.");
    expectError(await call("GET", await v3("/brokers/abc/configs")), 404, 404);
  });

  it("lists every broker's configs", async () => {
    const res = await call("GET", await v3("/brokers/-/configs"));
    doc.check("GET", "/v3/clusters/{cluster_id}/brokers/-/configs", res);
    const brokers = new Set(res.json.data.map((c: { broker_id: number }) => c.broker_id));
    expect([...brokers].sort()).toEqual(
      stack()
        .brokers.map((b: { id: number }) => b.id)
        .sort(),
    );
  });
});

describe("cluster-wide broker configs", () => {
  it("sets, lists, gets, alters and resets a dynamic default", async () => {
    const url = await v3("/broker-configs/log.cleaner.backoff.ms");
    try {
      const put = await json("PUT", url, { value: "20000" });
      doc.check("PUT", "/v3/clusters/{cluster_id}/broker-configs/{name}", put);
      expect(put.status, put.text).toBe(204);
      const list = await eventually(async () => {
        const r = await call("GET", await v3("/broker-configs"));
        expect(r.json.data.map((c: { name: string }) => c.name)).toContain("log.cleaner.backoff.ms");
        return r;
      });
      doc.check("GET", "/v3/clusters/{cluster_id}/broker-configs", list);
      // Each broker applies a cluster-wide default from the metadata log on its own time, and
      // the list and the get may be answered by different brokers: wait for this one too.
      const get = await eventually(async () => {
        const r = await call("GET", url);
        expect(r.json).toMatchObject({
          value: "20000",
          config_type: "BROKER",
          source: "DYNAMIC_DEFAULT_BROKER_CONFIG",
        });
        return r;
      });
      doc.check("GET", "/v3/clusters/{cluster_id}/broker-configs/{name}", get);
      expect(get.json.metadata.resource_name).toBe(
        `crn:///kafka=${await clusterId()}/broker-config=log.cleaner.backoff.ms`,
      );

      const alter = await json("POST", await v3("/broker-configs:alter"), {
        data: [{ name: "log.cleaner.backoff.ms", value: "25000" }],
      });
      doc.check("POST", "/v3/clusters/{cluster_id}/broker-configs:alter", alter);
      expect(alter.status, alter.text).toBe(204);
      await eventually(async () => expect(await configValue(url)).toBe("25000"));
    } finally {
      const reset = await call("DELETE", url);
      doc.check("DELETE", "/v3/clusters/{cluster_id}/broker-configs/{name}", reset);
      expect(reset.status, reset.text).toBe(204);
    }
    // Reset means no longer set dynamically: gone from the list, and a second reset is 404.
    await eventually(async () => expectError(await call("GET", url), 404, 404));
    const again = await call("DELETE", url);
    expectError(
      again,
      404,
      404,
      `Config log.cleaner.backoff.ms cannot be found for BROKER  in cluster ${await clusterId()}.`,
    );
    const bad = await json("PUT", url, { value: "soon" });
    expectError(bad, 400, 40002);
  });
});
