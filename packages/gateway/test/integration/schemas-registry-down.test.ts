/**
 * The registry stopped mid-run (deploy/stack's stopSchemaRegistry): produce in a schema format
 * that needs the registry fails with a retriable 5xx and writes nothing, binary and JSON produce
 * carry on, a schema the gateway already holds keeps working, and everything recovers when the
 * registry is back on its port. The registry is restarted in a finally block whatever happens.
 */
import avro from "avsc";
import { describe, expect, it } from "vitest";
import { startSchemaRegistry, stopSchemaRegistry } from "../../../../deploy/stack/index.ts";
import { createConsumer, instanceCall } from "./consumer-helpers.ts";
import { call, createTopic, gatewayUrl, readTopic, stack, unique, V2_JSON_FORMAT } from "./helpers.ts";
import { b64, produceV2, produceV3, reportLines } from "./produce-helpers.ts";
import { AVRO_ORDERS, VALUE_SCHEMA } from "./schemas-fixtures.ts";
import {
  comparable,
  contentType,
  endOffsets,
  expectProduced,
  expectRetriable,
  type FORMATS,
  produceSchemaV2,
  registerSchema,
  registry,
  registryUrl,
} from "./schemas-helpers.ts";
import { kafkaProducer } from "./sse-helpers.ts";
import { decodeWithPython } from "./wire-decode.ts";

/** A schema no one has used yet, so no gateway can have it cached. */
const freshAvro = (name: string) =>
  JSON.stringify({
    type: "record",
    name,
    namespace: "wharf.down",
    fields: [
      { name: "id", type: "long" },
      { name: "label", type: "string" },
    ],
  });

async function waitForRegistry(up: boolean, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const ok = await registry("GET", "/subjects").then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok === up) return;
    if (Date.now() > deadline) throw new Error(`registry still ${up ? "down" : "up"}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("schema registry stopped mid-run", () => {
  it("fails schema produce retriably, leaves binary/json alone, and recovers when it returns", async () => {
    const base = gatewayUrl(0);
    const warm = await createTopic(unique("sch-down-warm"), 1);
    const plain = await createTopic(unique("sch-down-plain"), 1);
    // The warm schema has been used through this gateway; the one registered straight with the registry has not.
    const warmBody = { value_schema: VALUE_SCHEMA.avro, records: [{ value: AVRO_ORDERS[0] }] };
    expectProduced(await produceSchemaV2(warm, "avro", warmBody, { base }), 1);
    const stamp = Date.now();
    const freshSchema = freshAvro(`Fresh_${stamp}`);
    const unseenTopic = await createTopic(unique("sch-down-byid"), 1);
    const unseenId = await registerSchema(`${unseenTopic}-value`, "avro", freshAvro(`Unseen_${stamp}`));
    // Each on its own topic (so its own subject): none of these schemas was ever given to a gateway.
    const coldRequests: Array<{ topic: string; format: (typeof FORMATS)[number]; body: object }> = [
      {
        topic: await createTopic(unique("sch-down-avro"), 1),
        format: "avro",
        body: { value_schema: freshSchema, records: [{ value: { id: 1, label: "fresh" } }] },
      },
      {
        topic: unseenTopic,
        format: "avro",
        body: { value_schema_id: unseenId, records: [{ value: { id: 2, label: "by id" } }] },
      },
      {
        topic: await createTopic(unique("sch-down-json"), 1),
        format: "jsonschema",
        body: {
          value_schema: JSON.stringify({
            type: "object",
            title: `Fresh${stamp}`,
            properties: { id: { type: "integer" } },
          }),
          records: [{ value: { id: 3 } }],
        },
      },
      {
        topic: await createTopic(unique("sch-down-proto"), 1),
        format: "protobuf",
        body: {
          value_schema: `syntax = "proto3";\nmessage Fresh${stamp} {\n  int64 id = 1;\n}\n`,
          records: [{ value: { id: 4 } }],
        },
      },
    ];
    const cold = coldRequests[0]?.topic as string;

    await stopSchemaRegistry(stack());
    try {
      await waitForRegistry(false);
      for (const { topic, format, body } of coldRequests) {
        for (const gateway of [0, 1, 2]) {
          const res = await produceSchemaV2(topic, format, body, { base: gatewayUrl(gateway) });
          expectRetriable(res);
        }
      }
      const v3 = await produceV3(
        cold,
        { value: { type: "AVRO", schema: freshSchema, data: { id: 5, label: "v3" } } },
        { base },
      );
      expect(v3.status).toBe(200);
      const [report] = reportLines(v3.text);
      expect(Number(String(report?.error_code).slice(0, 3)), v3.text).toBeGreaterThanOrEqual(500);
      for (const { topic } of coldRequests) expect(await endOffsets(topic)).toEqual([0]);

      // Formats without schemas do not touch the registry.
      expectProduced(await produceV2(plain, { records: [{ value: b64("binary") }] }, { base }), 1);
      const json = await call("POST", `${base}/topics/${plain}`, {
        headers: { "content-type": V2_JSON_FORMAT },
        body: { records: [{ value: { still: "fine" } }] },
      });
      expectProduced(json, 1);
      const v3String = await produceV3(plain, { value: { type: "STRING", data: "v3 string" } }, { base });
      expect(reportLines(v3String.text)[0]).toMatchObject({ error_code: 200, offset: 2 });

      // A schema this gateway already registered and used needs no registry call (REST Proxy caches it too).
      expectProduced(await produceSchemaV2(warm, "avro", warmBody, { base }), 1);
    } finally {
      await startSchemaRegistry(stack());
    }
    await waitForRegistry(true);

    // Recovery: the same requests succeed once the registry answers again (retrying the 5xx, as a client would).
    for (const { topic, format, body } of coldRequests) {
      const deadline = Date.now() + 30_000;
      let res = await produceSchemaV2(topic, format, body, { base });
      while (res.status >= 500 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        res = await produceSchemaV2(topic, format, body, { base });
      }
      expectProduced(res, 1);
      const [record] = await readTopic(topic, 1);
      const [decoded] = await decodeWithPython(registryUrl(), format, [record?.value as Buffer]);
      expect(decoded?.value).toEqual(
        format === "protobuf" ? { id: "4" } : (body as { records: Array<{ value: unknown }> }).records[0]?.value,
      );
      if (topic === unseenTopic) expect(decoded?.schema_id).toBe(unseenId);
    }
    expect(await endOffsets(plain)).toEqual([3]);
  });

  it("holds back a record whose schema it cannot fetch while the registry is down, and hands it over after", async () => {
    const topic = await createTopic(unique("sch-down-consume"), 1);
    const schema = freshAvro(`Held_${Date.now()}`);
    const id = await registerSchema(`${topic}-value`, "avro", schema);
    // Written by a plain Kafka producer in the wire format, so no gateway has looked the id up.
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    const payload = avro.Type.forSchema(JSON.parse(schema)).toBuffer({ id: 42, label: "held" });
    const kafka = await kafkaProducer();
    try {
      kafka.send(topic, 0, Buffer.concat([header, payload]));
      await kafka.flush();
    } finally {
      await kafka.close();
    }
    const consumer = await createConsumer(gatewayUrl(0), unique("g"), "c1", { format: "avro" });
    const sub = await instanceCall(consumer, "POST", "/subscription", { topics: [topic] });
    expect(sub.status, sub.text).toBe(204);
    const poll = () =>
      instanceCall(consumer, "GET", "/records?timeout=1000", undefined, {
        accept: contentType("avro"),
        retryUntilMs: 10_000,
      });

    await stopSchemaRegistry(stack());
    try {
      await waitForRegistry(false);
      // Three polls, long enough for the consumer to have fetched the record: none hands it over undecoded.
      for (let i = 0; i < 3; i++) {
        const res = await poll();
        if (res.status === 200) expect(res.json, res.text).toEqual([]);
        else expectRetriable(res);
      }
    } finally {
      await startSchemaRegistry(stack());
    }
    await waitForRegistry(true);
    const deadline = Date.now() + 30_000;
    const got: unknown[] = [];
    while (got.length === 0 && Date.now() < deadline) {
      const res = await poll();
      if (res.status === 200) got.push(...res.json);
    }
    expect(got.map((r) => comparable((r as { value: unknown }).value))).toEqual([{ id: 42, label: "held" }]);
    await instanceCall(consumer, "DELETE", "");
  });
});
