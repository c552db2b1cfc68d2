import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { decodeEntry, encodeEntry } from "./kafka-log.ts";
import { createRegistry, parseSchemaRequest, parseVersionId, type SchemaLog, type SchemaRequest } from "./registry.ts";
import { type LogEntry, RegistryState } from "./state.ts";

/** The log as Kafka would keep it: every entry through the record encoding, in order. */
function memoryLog(failing = () => false) {
  const records: { key: Buffer; value: Buffer | null }[] = [];
  const log: SchemaLog = {
    async append(entries) {
      if (failing()) throw new Error("broker down");
      for (const entry of entries) records.push(encodeEntry(entry));
    },
  };
  const replay = () => {
    const state = new RegistryState();
    for (const r of records) state.apply(decodeEntry(r.key, r.value) as LogEntry);
    return state;
  };
  return { log, records, replay };
}

const avro = (schema: unknown): SchemaRequest => ({
  schemaType: "AVRO",
  schema: JSON.stringify(schema),
  references: [],
});
const rec = (name: string, fields: object[] = [{ name: "a", type: "int" }]) => ({ type: "record", name, fields });

describe("registry operations", () => {
  it("gives global, increasing ids; the same schema keeps its id across subjects and is not a new version", async () => {
    const { log } = memoryLog();
    const registry = createRegistry(new RegistryState(), log);
    const first = await registry.register("a-value", avro(rec("A")));
    const second = await registry.register("b-value", avro(rec("B")));
    expect(second.id).toBeGreaterThan(first.id);
    expect(await registry.register("c-value", avro(rec("A")))).toEqual(first);
    expect(await registry.register("a-value", avro(rec("A")))).toEqual(first);
    expect(registry.versions("a-value", false)).toEqual([1]);
    expect(registry.idUsage(first.id, false).map((r) => r.subject)).toEqual(["a-value", "c-value"]);
  });

  it("assigns ids one write at a time even when registrations race", async () => {
    const { log } = memoryLog();
    const registry = createRegistry(new RegistryState(), log);
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => registry.register(`s${i}`, avro(rec(`R${i}`)))));
    expect(new Set(ids.map((r) => r.id)).size).toBe(10);
  });

  it("answers nothing it has not written: a failed write changes no state", async () => {
    let down = true;
    const { log } = memoryLog(() => down);
    const registry = createRegistry(new RegistryState(), log);
    await expect(registry.register("s", avro(rec("R")))).rejects.toThrow("broker down");
    expect(registry.subjects(false)).toEqual([]);
    down = false;
    expect((await registry.register("s", avro(rec("R")))).id).toBe(1);
  });

  it("replays the log into the same ids, versions, deletions and configs", async () => {
    const { log, replay } = memoryLog();
    const registry = createRegistry(new RegistryState(), log);
    await registry.register("s", avro(rec("R")));
    await registry.register(
      "s",
      avro(
        rec("R", [
          { name: "a", type: "int" },
          { name: "b", type: "int", default: 0 },
        ]),
      ),
    );
    await registry.register("t", avro(rec("T")));
    await registry.deleteVersion("s", 1, false);
    await registry.setConfig("s", "FULL");
    await registry.deleteSubject("t", false);
    await registry.deleteSubject("t", true);

    const replayed = createRegistry(replay(), log);
    expect(replayed.subjects(false)).toEqual(["s"]);
    expect(replayed.versions("s", false)).toEqual([2]);
    expect(replayed.versions("s", true)).toEqual([1, 2]);
    expect(replayed.config("s", false)).toBe("FULL");
    expect(replayed.version("s", "latest", false).id).toBe(2);
    // Ids go on from the highest ever used, even though subject t (id 3) is gone for good.
    expect((await replayed.register("u", avro(rec("U")))).id).toBe(4);
  });

  it("uses Confluent's codes for deletes in the wrong order and for missing things", async () => {
    const registry = createRegistry(new RegistryState(), memoryLog().log);
    await registry.register("s", avro(rec("R")));
    const code = async (work: () => unknown) => {
      try {
        await work();
      } catch (error) {
        return (error as { errorCode: number }).errorCode;
      }
      return 0;
    };
    expect(await code(() => registry.deleteSubject("s", true))).toBe(40405);
    expect(await code(() => registry.deleteVersion("s", 1, true))).toBe(40407);
    expect(await registry.deleteSubject("s", false)).toEqual([1]);
    expect(await code(() => registry.deleteSubject("s", false))).toBe(40404);
    expect(await code(() => registry.version("s", 1, false))).toBe(40401);
    expect(registry.version("s", 1, true).version).toBe(1);
    expect(await code(() => registry.versions("nope", false))).toBe(40401);
    expect(await code(() => registry.schemaById(42))).toBe(40403);
    expect(await code(() => registry.config("s", false))).toBe(40408);
    expect(await code(() => parseVersionId("0"))).toBe(42202);
    expect(await code(() => parseVersionId("2147483648"))).toBe(42202);
    expect(parseVersionId("-1")).toBe("latest");
    expect(await code(() => parseSchemaRequest({ schema: "x", schemaType: "XML" }))).toBe(42201);
  });

  it("resolves references: an Avro type from another subject, a .proto import, a JSON $ref", async () => {
    const registry = createRegistry(new RegistryState(), memoryLog().log);
    await registry.register("address", avro(rec("Address", [{ name: "city", type: "string" }])));
    const withRef: SchemaRequest = {
      schemaType: "AVRO",
      schema: JSON.stringify(rec("Person", [{ name: "home", type: "Address" }])),
      references: [{ name: "Address", subject: "address", version: 1 }],
    };
    const person = await registry.register("person", withRef);
    expect(registry.schemaById(person.id).references).toEqual(withRef.references);
    // Without the reference the type is unknown.
    await expect(registry.register("person2", { ...withRef, references: [] })).rejects.toMatchObject({
      errorCode: 42201,
    });

    await registry.register("common", {
      schemaType: "PROTOBUF",
      schema: 'syntax = "proto3"; package common; message Money { int64 cents = 1; }',
      references: [],
    });
    const order = await registry.register("order", {
      schemaType: "PROTOBUF",
      schema:
        'syntax = "proto3"; package shop; import "common.proto"; import "google/protobuf/timestamp.proto";\n' +
        "message Order { common.Money total = 1; google.protobuf.Timestamp at = 2; }",
      references: [{ name: "common.proto", subject: "common", version: 1 }],
    });
    expect(order.id).toBeGreaterThan(0);

    await registry.register("jdef", { schemaType: "JSON", schema: '{"type":"string","maxLength":3}', references: [] });
    const json = await registry.register("juse", {
      schemaType: "JSON",
      schema: '{"type":"object","properties":{"code":{"$ref":"code.json"}}}',
      references: [{ name: "code.json", subject: "jdef", version: 1 }],
    });
    expect(json.id).toBeGreaterThan(order.id);
  });

  it("refuses to soft-delete a version another schema references (42206)", async () => {
    const registry = createRegistry(new RegistryState(), memoryLog().log);
    await registry.register("address", avro(rec("Address")));
    await registry.register("person", {
      schemaType: "AVRO",
      schema: JSON.stringify(rec("Person", [{ name: "home", type: "Address" }])),
      references: [{ name: "Address", subject: "address", version: 1 }],
    });
    await expect(registry.deleteSubject("address", false)).rejects.toMatchObject({ errorCode: 42206 });
  });
});

describe("Protobuf renderings", () => {
  const text = `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Order {
  string id = 1;
  repeated Line lines = 2;
  map<string, int64> counts = 3;
  google.protobuf.Timestamp at = 4;
  oneof payment { string card = 5; int32 cash = 6; }
  optional string note = 7;
  Status status = 8;
  message Line { string sku = 1; double price = 2; }
  enum Status { NEW = 0; PAID = 1; }
}`;

  it("answers text as registered, base64 with ?format=serialized, and text for a schema registered as base64", async () => {
    const registry = createRegistry(new RegistryState(), memoryLog().log);
    const { id } = await registry.register("order", { schemaType: "PROTOBUF", schema: text, references: [] });
    const stored = registry.schemaById(id);
    expect(registry.rendered(stored, undefined)).toBe(text);
    const serialized = registry.rendered(stored, "serialized");
    expect(serialized).toMatch(/^[A-Za-z0-9+/=]+$/);

    // Registered as the descriptor (as Confluent's serializers do): a new schema, shown as text.
    const again = await registry.register("order-bin", { schemaType: "PROTOBUF", schema: serialized, references: [] });
    const shown = registry.rendered(registry.schemaById(again.id), undefined);
    expect(registry.rendered(registry.schemaById(again.id), "serialized")).toBe(serialized);
    // The text rendering parses back into the same message shape.
    const root = protobuf.parse(shown, { keepCase: true }).root;
    root.addJSON(
      (protobuf.common.get("google/protobuf/timestamp.proto") as { nested: protobuf.INamespace["nested"] }).nested ??
        {},
    );
    root.resolveAll();
    const order = root.lookupType("shop.Order");
    expect(Object.keys(order.fields).sort()).toEqual(["at", "card", "cash", "counts", "id", "lines", "note", "status"]);
    expect(order.fields.counts).toBeInstanceOf(protobuf.MapField);
    expect(order.oneofs?.payment?.fieldsArray.map((f) => f.name)).toEqual(["card", "cash"]);
    // And both forms are compatible with each other (FULL).
    await registry.setConfig("order", "FULL");
    expect(
      registry.testCompatibility("order", "latest", { schemaType: "PROTOBUF", schema: shown, references: [] }, true),
    ).toEqual([]);
  });
});
