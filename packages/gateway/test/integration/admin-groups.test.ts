/** v3 consumer groups, consumers, assignments and lag, with real librdkafka consumers in the groups. */
import Kafka from "@confluentinc/kafka-javascript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopicEverywhere, eventually, expectError, v3 } from "./admin-helpers.ts";
import { call, stack, unique } from "./helpers.ts";
import { type Conformance, loadConformance } from "./openapi-conformance.ts";
import { b64, produceV2 } from "./produce-helpers.ts";

let doc: Conformance;
let topic: string;
const consumers: Kafka.KafkaConsumer[] = [];

/** A consumer in `group` that has joined and got its partitions. */
async function joinGroup(group: string, clientId: string, protocol: "classic" | "consumer" = "classic") {
  const consumer = new Kafka.KafkaConsumer(
    {
      "bootstrap.servers": stack().kafka,
      "group.id": group,
      "client.id": clientId,
      "enable.auto.commit": false,
      "group.protocol": protocol,
      ...(protocol === "classic" ? { "session.timeout.ms": 10_000 } : {}),
    } as Kafka.ConsumerGlobalConfig,
    {},
  );
  consumers.push(consumer);
  await new Promise<void>((resolve, reject) => consumer.connect({}, (e) => (e ? reject(e) : resolve())));
  consumer.subscribe([topic]);
  const deadline = Date.now() + 30_000;
  while (consumer.assignments().length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => consumer.consume(1, () => setTimeout(resolve, 100)));
  }
  expect(consumer.assignments()).toHaveLength(2);
  return consumer;
}

const group = unique("adm-group");

beforeAll(async () => {
  doc = await loadConformance();
  topic = await createTopicEverywhere(unique("adm-lag"), 2);
  const records = [
    ...Array.from({ length: 5 }, (_, i) => ({ value: b64(`a${i}`), partition: 0 })),
    ...Array.from({ length: 3 }, (_, i) => ({ value: b64(`b${i}`), partition: 1 })),
  ];
  expect((await produceV2(topic, { records })).status).toBe(200);
  await joinGroup(group, "adm-client");
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => new Promise((resolve) => c.disconnect(resolve))));
});

describe("consumer groups", () => {
  it("has no lag before the group commits", async () => {
    expectError(
      await call("GET", await v3(`/consumer-groups/${group}/lags`)),
      404,
      404,
      "Consumer group offsets could not be found.",
    );
  });

  it("lists and gets the group with its state, assignor and coordinator", async () => {
    const list = await eventually(async () => {
      const res = await call("GET", await v3("/consumer-groups"));
      expect(res.json.data.map((g: { consumer_group_id: string }) => g.consumer_group_id)).toContain(group);
      return res;
    });
    doc.check("GET", "/v3/clusters/{cluster_id}/consumer-groups", list);
    const res = await call("GET", await v3(`/consumer-groups/${group}`));
    doc.check("GET", "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}", res);
    expect(res.json).toMatchObject({
      consumer_group_id: group,
      is_simple: false,
      state: "STABLE",
      type: "CLASSIC",
      partition_assignor: "range",
    });
    expect(res.json.coordinator.related).toMatch(/\/brokers\/\d+$/);
    expectError(await call("GET", await v3(`/consumer-groups/${unique("nope")}`)), 404, 404, "HTTP 404 Not Found");
  });

  it("lists consumers and their assignments", async () => {
    const list = await call("GET", await v3(`/consumer-groups/${group}/consumers`));
    doc.check("GET", "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers", list);
    expect(list.json.data).toHaveLength(1);
    const member = list.json.data[0];
    expect(member).toMatchObject({ client_id: "adm-client", instance_id: null });
    // Member ids may hold "/" and "+" (KIP-848 ids are base64): always escape them in a path.
    const id = encodeURIComponent(member.consumer_id as string);

    const one = await call("GET", await v3(`/consumer-groups/${group}/consumers/${id}`));
    doc.check("GET", "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers/{consumer_id}", one);
    expect(one.json).toEqual(member);

    const assignments = await call("GET", await v3(`/consumer-groups/${group}/consumers/${id}/assignments`));
    doc.check(
      "GET",
      "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers/{consumer_id}/assignments",
      assignments,
    );
    expect(
      assignments.json.data.map((a: { topic_name: string; partition_id: number }) => [a.topic_name, a.partition_id]),
    ).toEqual([
      [topic, 0],
      [topic, 1],
    ]);
    const assignment = await call(
      "GET",
      await v3(`/consumer-groups/${group}/consumers/${id}/assignments/${topic}/partitions/1`),
    );
    doc.check(
      "GET",
      "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers/{consumer_id}/assignments/{topic_name}/partitions/{partition_id}",
      assignment,
    );
    expect(assignment.json.lag.related).toBe(await v3(`/consumer-groups/${group}/lags/${topic}/partitions/1`));
    expectError(
      await call("GET", await v3(`/consumer-groups/${group}/consumers/${id}/assignments/${topic}/partitions/7`)),
      404,
      404,
    );
    expectError(await call("GET", await v3(`/consumer-groups/${group}/consumers/nobody`)), 404, 404);
    expectError(
      await call("GET", await v3(`/consumer-groups/${group}/consumers/nobody/assignments`)),
      404,
      404,
      "Consumer nobody does not exist.",
    );
    const missing = unique("nope");
    expectError(
      await call("GET", await v3(`/consumer-groups/${missing}/consumers`)),
      404,
      404,
      `Consumer Group ${missing} does not exist.`,
    );
  });

  it("reports lag per partition and its summary", async () => {
    const [consumer] = consumers as [Kafka.KafkaConsumer];
    consumer.commitSync([
      { topic, partition: 0, offset: 2 },
      { topic, partition: 1, offset: 3 },
    ]);
    const lags = await eventually(async () => {
      const res = await call("GET", await v3(`/consumer-groups/${group}/lags`));
      expect(res.status, res.text).toBe(200);
      return res;
    });
    doc.check("GET", "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lags", lags);
    const member = (await call("GET", await v3(`/consumer-groups/${group}/consumers`))).json.data[0];
    // Largest lag first.
    expect(
      lags.json.data.map((l: { partition_id: number; current_offset: number; log_end_offset: number; lag: number }) => [
        l.partition_id,
        l.current_offset,
        l.log_end_offset,
        l.lag,
      ]),
    ).toEqual([
      [0, 2, 5, 3],
      [1, 3, 3, 0],
    ]);
    expect(lags.json.data[0]).toMatchObject({ consumer_id: member.consumer_id, client_id: "adm-client" });

    const one = await call("GET", await v3(`/consumer-groups/${group}/lags/${topic}/partitions/0`));
    doc.check(
      "GET",
      "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lags/{topic_name}/partitions/{partition_id}",
      one,
    );
    expect(one.json).toEqual(lags.json.data[0]);
    expectError(await call("GET", await v3(`/consumer-groups/${group}/lags/${topic}/partitions/5`)), 404, 404);

    const summary = await call("GET", await v3(`/consumer-groups/${group}/lag-summary`));
    doc.check("GET", "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lag-summary", summary);
    expect(summary.json).toMatchObject({
      max_lag: 3,
      total_lag: 3,
      max_lag_topic_name: topic,
      max_lag_partition_id: 0,
      max_lag_consumer_id: member.consumer_id,
      max_lag_client_id: "adm-client",
    });
    expect(summary.json.max_lag_partition.related).toBe(await v3(`/topics/${topic}/partitions/0`));
    const missing = unique("nope");
    expectError(
      await call("GET", await v3(`/consumer-groups/${missing}/lag-summary`)),
      404,
      404,
      `Consumer Group ${missing} could not be found.`,
    );
  });

  it("describes a group of the KIP-848 consumer protocol", async () => {
    const modern = unique("adm-848");
    await joinGroup(modern, "adm-848-client", "consumer");
    const res = await eventually(async () => {
      const r = await call("GET", await v3(`/consumer-groups/${modern}`));
      expect(r.status, r.text).toBe(200);
      return r;
    });
    doc.check("GET", "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}", res);
    expect(res.json).toMatchObject({ type: "CONSUMER", state: "STABLE", is_simple: false });
    const members = await call("GET", await v3(`/consumer-groups/${modern}/consumers`));
    expect(members.json.data).toHaveLength(1);
    expect(members.json.data[0].client_id).toBe("adm-848-client");
    const id = encodeURIComponent(members.json.data[0].consumer_id);
    const assignments = await call("GET", await v3(`/consumer-groups/${modern}/consumers/${id}/assignments`));
    expect(assignments.json.data, assignments.text).toHaveLength(2);
    expect(assignments.json.metadata.self).toBe(await v3(`/consumer-groups/${modern}/consumers/${id}/assignments`));
    const list = await call("GET", await v3("/consumer-groups"));
    expect(list.json.data.find((g: { consumer_group_id: string }) => g.consumer_group_id === modern)?.type).toBe(
      "CONSUMER",
    );
  });
});
