/**
 * The stack's Schema Registry stand-in (deploy/stack/schema-registry) against Confluent's own
 * clients, unchanged: npm @confluentinc/schemaregistry (client and serdes) and Python
 * confluent-kafka (through wire-decode.py), plus its error codes and its replay of `_schemas`.
 */
import { randomUUID } from "node:crypto";
import { create, createFileRegistry, createMutableRegistry, type DescMessage, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  AvroDeserializer,
  AvroSerializer,
  JsonDeserializer,
  JsonSerializer,
  ProtobufDeserializer,
  ProtobufSerializer,
  SchemaRegistryClient,
  SerdeType,
} from "@confluentinc/schemaregistry";
import { describe, expect, inject, it } from "vitest";
import { startSchemaRegistry, stopSchemaRegistry } from "../../../../deploy/stack/index.ts";
import { createTopic, readTopic } from "./helpers.ts";
import { decodeWithPython, encodeWithPython } from "./wire-decode.ts";

const stack = inject("stack");
const registry = stack.schemaRegistry as string;
const run = randomUUID().slice(0, 8);
const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

const newClient = () => new SchemaRegistryClient({ baseURLs: [registry], maxRetries: 0 });

// biome-ignore lint/suspicious/noExplicitAny: the tests read loosely shaped JSON answers field by field
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${registry}${path}`, {
    method,
    headers: { "content-type": CONTENT_TYPE, accept: CONTENT_TYPE },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function requestCount(): Promise<number> {
  return ((await call("GET", "/_standin/metrics")).body as { requests: number }).requests;
}

const orderV1 = {
  type: "record",
  name: "Order",
  namespace: "wharf.test",
  fields: [
    { name: "id", type: "string" },
    { name: "total", type: "double" },
    { name: "note", type: ["null", "string"], default: null },
  ],
};
const orderV2 = { ...orderV1, fields: [...orderV1.fields, { name: "currency", type: "string", default: "EUR" }] };
const orderBreaking = { ...orderV1, fields: [...orderV1.fields, { name: "customer", type: "string" }] };

const personJson = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer" } },
  required: ["name"],
};

const orderProto = `syntax = "proto3";
package wharf.test;
message Order {
  string id = 1;
  double total = 2;
  repeated string tags = 3;
  map<string, int64> counts = 4;
  Status status = 5;
  enum Status { NEW = 0; PAID = 1; }
}`;

/** A protobuf-es message type built from the registry's own FileDescriptorProto of a schema. */
async function protobufMessage(id: number, typeName: string): Promise<DescMessage> {
  const schema = (await call("GET", `/schemas/ids/${id}?format=serialized`)).body as { schema: string };
  const file = fromBinary(FileDescriptorProtoSchema, Buffer.from(schema.schema, "base64"));
  file.name = `order-${run}.proto`;
  const found = createFileRegistry(file, () => undefined).getMessage(typeName);
  if (!found) throw new Error(`no ${typeName} in schema ${id}`);
  return found;
}

/**
 * The Order .proto registered as text under `subject`, and Confluent's ProtobufSerializer for the
 * message type built from the registry's own descriptor of it.
 */
async function protobufOrderSerdes(subject: string) {
  const textId = (await call("POST", `/subjects/${subject}/versions`, { schemaType: "PROTOBUF", schema: orderProto }))
    .body.id as number;
  const desc = await protobufMessage(textId, "wharf.test.Order");
  const client = newClient();
  const serializer = new ProtobufSerializer(client, SerdeType.VALUE, {
    autoRegisterSchemas: true,
    registry: createMutableRegistry(desc),
  });
  return { textId, desc, client, serializer };
}

describe("schema registry stand-in with Confluent's JavaScript client", () => {
  it("registers, finds and checks schemas as Confluent's registry does", async () => {
    const client = newClient();
    const subject = `orders-${run}-value`;
    const id = await client.register(subject, { schemaType: "AVRO", schema: JSON.stringify(orderV1) });
    // The same schema again (other whitespace, a fresh client) is the same id, not a new version.
    const again = await newClient().register(subject, { schemaType: "AVRO", schema: JSON.stringify(orderV1, null, 2) });
    expect(again).toBe(id);

    const info = await client.getBySubjectAndId(subject, id);
    expect(JSON.parse(info.schema)).toEqual(orderV1);
    expect(await client.getId(subject, { schemaType: "AVRO", schema: JSON.stringify(orderV1) })).toBe(id);

    expect(await client.testSubjectCompatibility(subject, { schema: JSON.stringify(orderV2) })).toBe(true);
    expect(await client.testSubjectCompatibility(subject, { schema: JSON.stringify(orderBreaking) })).toBe(false);
    const id2 = await client.register(subject, { schemaType: "AVRO", schema: JSON.stringify(orderV2) });
    expect(id2).toBeGreaterThan(id);

    const latest = await client.getLatestSchemaMetadata(subject);
    expect(latest).toMatchObject({ id: id2, version: 2, subject });
    expect(await client.getAllVersions(subject)).toEqual([1, 2]);
    expect(await client.getAllSubjects()).toContain(subject);

    // The same schema under another subject keeps its global id.
    expect(await client.register(`other-${run}`, { schemaType: "AVRO", schema: JSON.stringify(orderV1) })).toBe(id);
    const versions = (await call("GET", `/schemas/ids/${id}/versions`)).body;
    expect(versions).toEqual(
      expect.arrayContaining([
        { subject, version: 1 },
        { subject: `other-${run}`, version: 1 },
      ]),
    );
  });

  it("round-trips Avro through AvroSerializer and AvroDeserializer, looking each schema up once", async () => {
    const topic = `avro-${run}`;
    const client = newClient();
    await client.register(`${topic}-value`, { schemaType: "AVRO", schema: JSON.stringify(orderV1) });
    const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const deserializer = new AvroDeserializer(client, SerdeType.VALUE, {});
    const values = Array.from({ length: 20 }, (_, i) => ({ id: `o-${i}`, total: i * 1.5, note: i % 2 ? "x" : null }));
    const roundTrip = async (value: unknown) =>
      deserializer.deserialize(topic, await serializer.serialize(topic, value));
    // The first record fills the client's caches (association, latest version, schema by id)...
    const decoded = [await roundTrip(values[0])];
    const afterFirst = await requestCount();
    // ...so the next ones, one after another, cost the registry nothing.
    for (const value of values.slice(1)) decoded.push(await roundTrip(value));
    expect(decoded).toEqual(values);
    expect(await requestCount()).toBe(afterFirst);
  });

  it("round-trips JSON Schema through JsonSerializer and JsonDeserializer", async () => {
    const topic = `json-${run}`;
    const client = newClient();
    await client.register(`${topic}-value`, { schemaType: "JSON", schema: JSON.stringify(personJson) });
    const serializer = new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true, validate: true });
    const deserializer = new JsonDeserializer(client, SerdeType.VALUE, {});
    const value = { name: "Ada", age: 36 };
    const bytes = await serializer.serialize(topic, value);
    expect(bytes[0]).toBe(0);
    expect(await deserializer.deserialize(topic, bytes)).toEqual(value);
  });

  it("round-trips Protobuf through ProtobufSerializer (base64 descriptors) and ProtobufDeserializer", async () => {
    const topic = `proto-${run}`;
    const { desc, client, serializer } = await protobufOrderSerdes(`text-${run}`);
    const deserializer = new ProtobufDeserializer(client, SerdeType.VALUE, {});
    const message = create(desc, { id: "o-1", total: 9.5, tags: ["a", "b"], counts: { x: 3n }, status: 1 });
    const bytes = await serializer.serialize(topic, message);
    const back = (await deserializer.deserialize(topic, bytes)) as Record<string, unknown>;
    expect(back).toMatchObject({ id: "o-1", total: 9.5, tags: ["a", "b"], counts: { x: 3n }, status: 1 });
    // The serializer registered the descriptor itself (as base64), which the registry gives back as is.
    const latest = await client.getLatestSchemaMetadata(`${topic}-value`);
    expect(latest.schemaType).toBe("PROTOBUF");
    // Answered as .proto text by default (as Confluent's registry does), base64 when serialized is asked.
    expect(latest.schema).toContain("message Order {");
    expect((await call("GET", `/schemas/ids/${latest.id}?format=serialized`)).body.schema).toMatch(/^[A-Za-z0-9+/=]+$/);
  });
});

describe("schema registry stand-in with Confluent's Python client", () => {
  it("Avro: Python's AvroSerializer is read by the JS deserializer, and JS's by Python", async () => {
    const topic = `py-avro-${run}`;
    const value = { id: "p-1", total: 2.25, note: "hello" };
    const [fromPython] = await encodeWithPython(registry, [
      { format: "avro", topic, schema: JSON.stringify(orderV1), value },
    ]);
    const client = newClient();
    expect(
      await new AvroDeserializer(client, SerdeType.VALUE, {}).deserialize(topic, fromPython?.bytes as Buffer),
    ).toEqual(value);
    const fromJs = await new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true }).serialize(topic, {
      ...value,
      id: "p-2",
    });
    const [decoded] = await decodeWithPython(registry, "avro", [fromJs]);
    expect(decoded).toEqual({ schema_id: fromPython?.schema_id, value: { ...value, id: "p-2" } });
  });

  it("JSON Schema: Python's JSONSerializer is read by the JS deserializer, and JS's by Python", async () => {
    const topic = `py-json-${run}`;
    const [fromPython] = await encodeWithPython(registry, [
      { format: "jsonschema", topic, schema: JSON.stringify(personJson), value: { name: "Grace", age: 45 } },
    ]);
    const client = newClient();
    expect(
      await new JsonDeserializer(client, SerdeType.VALUE, {}).deserialize(topic, fromPython?.bytes as Buffer),
    ).toEqual({ name: "Grace", age: 45 });
    const fromJs = await new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true }).serialize(topic, {
      name: "Linus",
    });
    expect(await decodeWithPython(registry, "jsonschema", [fromJs])).toEqual([
      { schema_id: fromPython?.schema_id, value: { name: "Linus" } },
    ]);
  });

  it("Protobuf: Python decodes what the JS serializer wrote, and the JS deserializer what Python wrote", async () => {
    const topic = `py-proto-${run}`;
    const { textId, desc, client, serializer } = await protobufOrderSerdes(`pytext-${run}`);
    const fromJs = await serializer.serialize(topic, create(desc, { id: "j-1", total: 1, tags: ["t"], status: 1 }));
    const [decoded] = await decodeWithPython(registry, "protobuf", [fromJs]);
    expect(decoded?.value).toEqual({ id: "j-1", total: 1, tags: ["t"], status: "PAID" });

    const [fromPython] = await encodeWithPython(registry, [
      {
        format: "protobuf",
        topic: `${topic}-py`,
        schemaId: textId,
        message: "wharf.test.Order",
        value: { id: "p-9", total: 4 },
      },
    ]);
    const back = (await new ProtobufDeserializer(client, SerdeType.VALUE, {}).deserialize(
      `${topic}-py`,
      fromPython?.bytes as Buffer,
    )) as Record<string, unknown>;
    expect(back).toMatchObject({ id: "p-9", total: 4 });
  });
});

describe("schema registry stand-in answers with Confluent's codes", () => {
  const incompatible = [
    {
      format: "AVRO",
      v1: JSON.stringify(orderV1),
      v2: JSON.stringify(orderBreaking),
    },
    {
      format: "JSON",
      v1: JSON.stringify(personJson),
      v2: JSON.stringify({ ...personJson, properties: { ...personJson.properties, age: { type: "string" } } }),
    },
    {
      format: "PROTOBUF",
      v1: orderProto,
      v2: orderProto.replace("double total = 2;", "string total = 2;"),
    },
  ];
  for (const { format, v1, v2 } of incompatible) {
    it(`refuses an incompatible ${format} schema with 409 and keeps the subject as it was`, async () => {
      const subject = `compat-${format}-${run}`;
      const first = await call("POST", `/subjects/${subject}/versions`, { schemaType: format, schema: v1 });
      expect(first.status).toBe(200);
      const check = await call("POST", `/compatibility/subjects/${subject}/versions/latest?verbose=true`, {
        schemaType: format,
        schema: v2,
      });
      expect(check.body.is_compatible).toBe(false);
      expect(check.body.messages.length).toBeGreaterThan(0);
      const refused = await call("POST", `/subjects/${subject}/versions`, { schemaType: format, schema: v2 });
      expect(refused.status).toBe(409);
      expect(refused.body.error_code).toBe(409);
      expect(refused.body.message).toContain(
        `Schema being registered is incompatible with an earlier schema for subject "${subject}"`,
      );
      expect((await call("GET", `/subjects/${subject}/versions`)).body).toEqual([1]);
      // With compatibility NONE for the subject, the same schema is accepted as version 2.
      expect((await call("PUT", `/config/${subject}`, { compatibility: "NONE" })).body).toEqual({
        compatibility: "NONE",
      });
      expect((await call("POST", `/subjects/${subject}/versions`, { schemaType: format, schema: v2 })).status).toBe(
        200,
      );
    });
  }

  it("gives 40401, 40402, 40403, 42201, 42202, 42203 and Confluent's content type", async () => {
    const response = await fetch(`${registry}/subjects/missing-${run}/versions`);
    expect(response.headers.get("content-type")).toBe(CONTENT_TYPE);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error_code: 40401, message: `Subject 'missing-${run}' not found.` });

    const subject = `codes-${run}`;
    await call("POST", `/subjects/${subject}/versions`, { schema: '"string"' });
    expect((await call("GET", `/subjects/${subject}/versions/7`)).body.error_code).toBe(40402);
    expect((await call("GET", "/schemas/ids/999999")).body).toEqual({
      error_code: 40403,
      message: "Schema 999999 not found",
    });
    expect((await call("POST", `/subjects/${subject}`, { schema: '"int"' })).body.error_code).toBe(40403);
    for (const [schemaType, schema] of [
      ["AVRO", '{"type":"record","name":"R","fields":[{"name":"a","type":"nope"}]}'],
      ["JSON", '{"type":"no-such-type"}'],
      ["PROTOBUF", "message M { string a = 1 }"],
    ]) {
      const bad = await call("POST", `/subjects/${subject}-${schemaType}/versions`, { schemaType, schema });
      expect(bad.status).toBe(422);
      expect(bad.body.error_code).toBe(42201);
    }
    expect((await call("GET", `/subjects/${subject}/versions/zero`)).body.error_code).toBe(42202);
    expect((await call("PUT", "/config", { compatibility: "SIDEWAYS" })).body.error_code).toBe(42203);
    expect((await call("GET", `/config/${subject}`)).body.error_code).toBe(40408);
    expect((await call("GET", `/config/${subject}?defaultToGlobal=true`)).body).toEqual({
      compatibilityLevel: "BACKWARD",
    });
    expect((await call("GET", "/schemas/types")).body).toEqual(["JSON", "PROTOBUF", "AVRO"]);

    // Soft delete, then permanent delete, as Confluent orders them.
    expect((await call("DELETE", `/subjects/${subject}?permanent=true`)).body.error_code).toBe(40405);
    expect((await call("DELETE", `/subjects/${subject}`)).body).toEqual([1]);
    expect((await call("GET", `/subjects/${subject}/versions`)).body.error_code).toBe(40401);
    expect((await call("GET", `/subjects/${subject}/versions?deleted=true`)).body).toEqual([1]);
    expect((await call("DELETE", `/subjects/${subject}?permanent=true`)).body).toEqual([1]);
    expect((await call("GET", `/subjects?deleted=true`)).body).not.toContain(subject);
  });
});

describe("the stack's gateways", () => {
  it("are pointed at the stand-in: an Avro produce registers there and Python decodes the record", async () => {
    const topic = await createTopic(`wired-${run}`, 1);
    const response = await fetch(`${stack.lb}/topics/${topic}`, {
      method: "POST",
      headers: { "content-type": "application/vnd.kafka.avro.v2+json" },
      body: JSON.stringify({
        value_schema: JSON.stringify(orderV1),
        records: [{ value: { id: "w-1", total: 1.5, note: null } }],
      }),
    });
    const body = (await response.json()) as { value_schema_id: number };
    expect(response.status).toBe(200);
    expect((await call("GET", `/subjects/${topic}-value/versions/latest`)).body.id).toBe(body.value_schema_id);
    const [record] = await readTopic(topic, 1);
    expect(await decodeWithPython(registry, "avro", [record?.value as Buffer])).toEqual([
      { schema_id: body.value_schema_id, value: { id: "w-1", total: 1.5, note: null } },
    ]);
  });
});

describe("schema registry stand-in restarted", () => {
  it("keeps its ids, versions and configs (replayed from _schemas) and goes on counting", async () => {
    const subject = `restart-${run}`;
    const client = newClient();
    const id1 = await client.register(subject, { schema: JSON.stringify(orderV1) });
    const id2 = await client.register(subject, { schema: JSON.stringify(orderV2) });
    await call("PUT", `/config/${subject}`, { compatibility: "FULL" });

    await stopSchemaRegistry(stack);
    await expect(fetch(`${registry}/subjects`)).rejects.toThrow();
    await startSchemaRegistry(stack);

    const fresh = newClient();
    expect((await fresh.getLatestSchemaMetadata(subject)).id).toBe(id2);
    expect((await fresh.getSchemaMetadata(subject, 1)).id).toBe(id1);
    expect(await fresh.getCompatibility(subject)).toBe("FULL");
    expect(await fresh.register(subject, { schema: JSON.stringify(orderV1) })).toBe(id1);
    const id3 = await fresh.register(`${subject}-next`, { schema: '{"type":"fixed","name":"F","size":4}' });
    expect(id3).toBeGreaterThan(id2);
  });
});
