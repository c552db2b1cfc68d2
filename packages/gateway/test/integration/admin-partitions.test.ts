/** v3 partitions, partition offsets, replicas and (real, throttled) replica reassignments. */
import { Admin, alterPartitionReassignmentsV0 } from "@platformatic/kafka";
import { beforeAll, describe, expect, it } from "vitest";
import { brokerIds, createTopicEverywhere, eventually, expectError, v3 } from "./admin-helpers.ts";
import { call, stack, unique } from "./helpers.ts";
import { type Conformance, loadConformance } from "./openapi-conformance.ts";
import { b64, produceV2 } from "./produce-helpers.ts";

let doc: Conformance;
let topic: string;
beforeAll(async () => {
  doc = await loadConformance();
  topic = await createTopicEverywhere(unique("adm-parts"), 3);
});

describe("partitions", () => {
  it("lists and gets partitions with leader, replicas and reassignment links", async () => {
    const list = await call("GET", await v3(`/topics/${topic}/partitions`));
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions", list);
    expect(list.json.data.map((p: { partition_id: number }) => p.partition_id)).toEqual([0, 1, 2]);
    const one = await call("GET", await v3(`/topics/${topic}/partitions/1`));
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}", one);
    expect(one.json).toEqual(list.json.data[1]);
    expect(one.json.leader.related).toMatch(new RegExp(`/topics/${topic}/partitions/1/replicas/\\d+$`));
    expect(one.json.reassignment.related).toBe(await v3(`/topics/${topic}/partitions/1/reassignment`));
  });

  it("answers unknown topics and partitions as REST Proxy does", async () => {
    const missing = unique("nope");
    expectError(await call("GET", await v3(`/topics/${missing}/partitions`)), 404, 40403);
    expectError(
      await call("GET", await v3(`/topics/${missing}/partitions/0`)),
      404,
      40403,
      `This server does not host topic-partition 0 for topic ${missing}`,
    );
    expectError(await call("GET", await v3(`/topics/${topic}/partitions/7`)), 404, 404);
    expectError(await call("GET", await v3(`/topics/${topic}/partitions/x`)), 404, 404);
  });

  it("reports earliest and latest offsets", async () => {
    const records = Array.from({ length: 4 }, (_, i) => ({ value: b64(`v${i}`), partition: 2 }));
    expect((await produceV2(topic, { records })).status).toBe(200);
    const res = await call("GET", await v3(`/topics/${topic}/partitions/2/offset`));
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/offset", res);
    expect(res.json).toMatchObject({ partition_id: 2, earliest_offset: 0, latest_offset: 4 });
    expect(res.json.metadata.resource_name).toMatch(/partition=2\/offset_type=earliest_and_latest$/);
    const explicit = await call(
      "GET",
      await v3(`/topics/${topic}/partitions/2/offset?offset_type=earliest_and_latest`),
    );
    expect(explicit.json.latest_offset).toBe(4);
    expectError(
      await call("GET", await v3(`/topics/${topic}/partitions/2/offset?offset_type=latest`)),
      400,
      400,
      "offset_type:latest is invalid",
    );
    expectError(
      await call("GET", await v3(`/topics/${topic}/partitions/9/offset`)),
      404,
      40402,
      "Partition not found.",
    );
  });

  it("lists and gets replicas", async () => {
    const list = await call("GET", await v3(`/topics/${topic}/partitions/0/replicas`));
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/replicas", list);
    expect(list.json.data).toHaveLength(3);
    expect(list.json.data.filter((r: { is_leader: boolean }) => r.is_leader)).toHaveLength(1);
    const broker = list.json.data[0].broker_id;
    const one = await call("GET", await v3(`/topics/${topic}/partitions/0/replicas/${broker}`));
    doc.check(
      "GET",
      "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/replicas/{broker_id}",
      one,
    );
    expect(one.json).toEqual(list.json.data[0]);
    expectError(await call("GET", await v3(`/topics/${topic}/partitions/0/replicas/999`)), 404, 404);
    const cluster = (await v3()).split("/").pop();
    expectError(
      await call("GET", await v3(`/topics/${topic}/partitions/8/replicas`)),
      404,
      404,
      `Partition 8 of topic ${topic} could not be found on cluster ${cluster}.`,
    );
  });
});

describe("reassignments", () => {
  it("lists none when none is ongoing", async () => {
    const all = await call("GET", await v3("/topics/-/partitions/-/reassignment"));
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/-/partitions/-/reassignment", all);
    expect(all.json.data).toEqual([]);
    const byTopic = await call("GET", await v3(`/topics/${topic}/partitions/-/reassignment`));
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/-/reassignment", byTopic);
    expect(byTopic.json.data).toEqual([]);
    const one = await call("GET", await v3(`/topics/${topic}/partitions/0/reassignment`));
    doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/reassignment", one);
    expectError(one, 404, 404);
  });

  it("shows an ongoing reassignment (held open by a replication throttle)", async () => {
    const [a, b, c] = brokerIds();
    const admin = new Admin({ clientId: "wharf-test-reassign", bootstrapBrokers: stack().kafka.split(",") });
    const name = unique("adm-move");
    const throttle = (operation: 0 | 1) =>
      admin.incrementalAlterConfigs({
        resources: [a, b, c].map((id) => ({
          resourceType: 4,
          resourceName: String(id),
          configs: ["leader.replication.throttled.rate", "follower.replication.throttled.rate"].map((config) =>
            operation === 0 ? { name: config, configOperation: 0, value: "1" } : { name: config, configOperation: 1 },
          ),
        })),
      } as Parameters<Admin["incrementalAlterConfigs"]>[0]);
    const move = async (replicas: number[] | null) => {
      const metadata = await admin.metadata({ topics: [] });
      const connection = (await admin.connectToBrokers([metadata.controllerId])).get(metadata.controllerId);
      if (!connection) throw new Error("no controller connection");
      await alterPartitionReassignmentsV0.api.async(connection, 10_000, true, [
        { name, partitions: [{ partitionIndex: 0, replicas }] },
      ]);
    };
    try {
      await admin.createTopics({ topics: [{ topic: name, assignments: [{ partition: 0, brokers: [a, b] }] }] });
      // Enough data that a replica throttled to 1 byte/s cannot catch up during the test.
      const value = b64(Buffer.alloc(100_000, 1));
      await eventually(async () => {
        const res = await produceV2(name, { records: Array.from({ length: 5 }, () => ({ value, partition: 0 })) });
        expect(res.status, res.text).toBe(200);
      });
      await throttle(0);
      await admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: 2,
            resourceName: name,
            configs: ["leader.replication.throttled.replicas", "follower.replication.throttled.replicas"].map(
              (config) => ({ name: config, configOperation: 0, value: "*" }),
            ),
          },
        ],
      } as Parameters<Admin["incrementalAlterConfigs"]>[0]);
      await move([b, c]);

      const all = await eventually(async () => {
        const res = await call("GET", await v3("/topics/-/partitions/-/reassignment"));
        expect(res.json.data.some((r: { topic_name: string }) => r.topic_name === name)).toBe(true);
        return res;
      });
      doc.check("GET", "/v3/clusters/{cluster_id}/topics/-/partitions/-/reassignment", all);
      const mine = all.json.data.find((r: { topic_name: string }) => r.topic_name === name);
      expect(mine).toMatchObject({ partition_id: 0, adding_replicas: [c], removing_replicas: [a] });
      expect(mine.metadata.self).toBe(await v3(`/topics/${name}/partitions/0/reassignments`));

      const byTopic = await call("GET", await v3(`/topics/${name}/partitions/-/reassignment`));
      expect(byTopic.json.data).toHaveLength(1);
      const one = await call("GET", await v3(`/topics/${name}/partitions/0/reassignment`));
      doc.check("GET", "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/reassignment", one);
      expect(one.json).toMatchObject({ adding_replicas: [c], removing_replicas: [a] });
      expect(one.json.metadata.self).toBe(await v3(`/topics/${name}/partitions/0/reassignment`));
    } finally {
      await move(null).catch(() => {});
      await throttle(1).catch(() => {});
      await admin.deleteTopics({ topics: [name] }).catch(() => {});
      await admin.close();
    }
  });
});
