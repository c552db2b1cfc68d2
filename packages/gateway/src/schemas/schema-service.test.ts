/** The SchemaManager part: which subject, which registry calls, what is cached. */
import { Counter, Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../config.ts";
import { RestError } from "../errors.ts";
import { createSchemaSupport, type SchemaRequest, type Schemas } from "./index.ts";
import { type FakeRegistry, startFakeRegistry } from "./testing.ts";

let registry: FakeRegistry;
let schemas: Schemas;
let recordNamed: Schemas;

const request = (fields: Partial<SchemaRequest>): SchemaRequest => ({
  format: null,
  rawSchema: null,
  schemaId: null,
  schemaVersion: null,
  subject: null,
  strategy: null,
  ...fields,
});
const person = JSON.stringify({
  type: "record",
  name: "Person",
  namespace: "hr",
  fields: [{ name: "n", type: "string" }],
});

beforeAll(async () => {
  registry = await startFakeRegistry();
  const counter = () => new Counter({ name: "c", help: "h", labelNames: ["outcome"], registers: [new Registry()] });
  const base = { "bootstrap.servers": "k:9092", "schema.registry.url": registry.url };
  schemas = (await createSchemaSupport(parseConfig(base).schemaRegistry, counter())) as Schemas;
  recordNamed = (await createSchemaSupport(
    parseConfig({ ...base, "schema.registry.value.subject.name.strategy": "RecordNameStrategy" }).schemaRegistry,
    counter(),
  )) as Schemas;
});
afterAll(async () => {
  schemas.close();
  recordNamed.close();
  await registry.close();
});

describe("schema resolution", () => {
  it("registers a raw schema once, then answers from its cache", async () => {
    const first = await schemas.resolve("hr", request({ format: "avro", rawSchema: person }), false);
    expect(first).toMatchObject({ subject: "hr-value", version: 1, format: "avro" });
    const calls = registry.requests.length;
    const again = await schemas.resolve("hr", request({ format: "avro", rawSchema: person }), false);
    expect(again.id).toBe(first.id);
    expect(registry.requests.length).toBe(calls);
  });

  it("follows the configured strategy, and a request's strategy or subject over it", async () => {
    const byConfig = await recordNamed.resolve("t", request({ format: "avro", rawSchema: person }), false);
    expect(byConfig.subject).toBe("hr.Person");
    const topicRecord = await schemas.resolve(
      "t",
      request({ format: "avro", rawSchema: person, strategy: "TOPIC_RECORD_NAME" }),
      true,
    );
    expect(topicRecord.subject).toBe("t-hr.Person");
    const named = await schemas.resolve("t", request({ format: "avro", rawSchema: person, subject: "chosen" }), false);
    expect(named.subject).toBe("chosen");
  });

  it("needs a subject for a version under a strategy that depends on the schema", async () => {
    await expect(schemas.resolve("t", request({ schemaVersion: 1, strategy: "RECORD_NAME" }), false)).rejects.toSatisfy(
      (e) => e instanceof RestError && e.status === 400 && /schema_subject_strategy=RECORD_NAME/.test(e.message),
    );
  });

  it("loads schemas with references through the referenced subject's version", async () => {
    registry.register(
      "line",
      JSON.stringify({ type: "record", name: "Line", namespace: "shop", fields: [{ name: "sku", type: "string" }] }),
    );
    const id = registry.register(
      "refs-value",
      JSON.stringify({
        type: "record",
        name: "Cart",
        namespace: "shop",
        fields: [{ name: "line", type: "shop.Line" }],
      }),
      "AVRO",
      [{ name: "shop.Line", subject: "line", version: 1 }],
    );
    const resolved = await schemas.resolve("refs", request({ schemaId: id }), false);
    const bytes = schemas.serialize(resolved, { line: { sku: "Q" } }, false) as Buffer;
    await schemas.prepare("avro", [bytes]);
    expect(JSON.parse(JSON.stringify(schemas.deserialize("avro", bytes)))).toEqual({ line: { sku: "Q" } });
  });

  it("refuses a schema id that is not under the topic's subject, as REST Proxy does", async () => {
    const id = registry.register("elsewhere-value", '"boolean"');
    await expect(schemas.resolve("mine", request({ schemaId: id }), false)).rejects.toSatisfy(
      (e) => e instanceof RestError && e.errorCode === 42207,
    );
  });
});
