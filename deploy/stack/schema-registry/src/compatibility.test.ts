import { describe, expect, it } from "vitest";
import { type CompatibilityLevel, compatibilityProblems, parseLevel } from "./compatibility.ts";
import { RegistryError } from "./errors.ts";
import { formatFor, type ParsedSchema, type SchemaType } from "./formats/index.ts";

const parse = (type: SchemaType, schema: unknown) =>
  formatFor(type).parse(typeof schema === "string" ? schema : JSON.stringify(schema), []);

/** Whether `next` may follow `previous` under `level`. */
function allowed(level: CompatibilityLevel, type: SchemaType, previous: unknown[], next: unknown): boolean {
  const earlier = previous.map((s, i) => ({ version: i + 1, parsed: parse(type, s) }));
  return compatibilityProblems(level, parse(type, next), earlier).length === 0;
}

const record = (fields: object[]) => ({ type: "record", name: "R", fields });
const a = { name: "a", type: "int" };
const bWithDefault = { name: "b", type: "string", default: "x" };
const bRequired = { name: "b", type: "string" };

describe("Avro compatibility (avsc schema resolution)", () => {
  it("BACKWARD: a new field needs a default, a removed field is fine", () => {
    expect(allowed("BACKWARD", "AVRO", [record([a])], record([a, bWithDefault]))).toBe(true);
    expect(allowed("BACKWARD", "AVRO", [record([a])], record([a, bRequired]))).toBe(false);
    expect(allowed("BACKWARD", "AVRO", [record([a, bRequired])], record([a]))).toBe(true);
  });

  it("FORWARD: the old schema must read the new, so removing a field without default is refused", () => {
    expect(allowed("FORWARD", "AVRO", [record([a, bRequired])], record([a]))).toBe(false);
    expect(allowed("FORWARD", "AVRO", [record([a])], record([a, bRequired]))).toBe(true);
  });

  it("FULL needs both directions; type promotion int -> long is backward only", () => {
    expect(allowed("FULL", "AVRO", [record([a])], record([a, bWithDefault]))).toBe(true);
    const long = record([{ name: "a", type: "long" }]);
    expect(allowed("BACKWARD", "AVRO", [record([a])], long)).toBe(true);
    expect(allowed("FORWARD", "AVRO", [record([a])], long)).toBe(false);
    expect(allowed("FULL", "AVRO", [record([a])], long)).toBe(false);
  });

  it("transitive levels check every earlier version, the others only the latest", () => {
    const v1 = record([a]);
    const v2 = record([a, bWithDefault]);
    const v3 = record([a, { name: "b", type: "string" }]); // default dropped: reads v2 data, not v1's
    expect(allowed("BACKWARD", "AVRO", [v1, v2], v3)).toBe(true);
    expect(allowed("BACKWARD_TRANSITIVE", "AVRO", [v1, v2], v3)).toBe(false);
    expect(allowed("NONE", "AVRO", [v1, v2], '"string"')).toBe(true);
  });

  it("enum symbols removed are incompatible backward; a renamed record is", () => {
    const e = (symbols: string[]) => ({ type: "enum", name: "E", symbols });
    expect(allowed("BACKWARD", "AVRO", [e(["A", "B"])], e(["A"]))).toBe(false);
    expect(allowed("BACKWARD", "AVRO", [e(["A"])], e(["A", "B"]))).toBe(true);
    expect(allowed("BACKWARD", "AVRO", [record([a])], { ...record([a]), name: "Other" })).toBe(false);
  });

  it("rejects invalid schemas with 42201", () => {
    for (const bad of [
      "{",
      '{"type":"record","name":"R"}',
      '{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":"no"}]}',
    ]) {
      expect(() => parse("AVRO", bad)).toThrow(RegistryError);
      try {
        parse("AVRO", bad);
      } catch (error) {
        expect((error as RegistryError).errorCode).toBe(42201);
      }
    }
  });
});

const object = (properties: object, extra: object = {}) => ({ type: "object", properties, ...extra });

describe("JSON Schema compatibility (documented core rules)", () => {
  it("type narrowing is refused backward, widening integer -> number accepted", () => {
    expect(allowed("BACKWARD", "JSON", [object({ n: { type: "number" } })], object({ n: { type: "integer" } }))).toBe(
      false,
    );
    expect(allowed("BACKWARD", "JSON", [object({ n: { type: "integer" } })], object({ n: { type: "number" } }))).toBe(
      true,
    );
    expect(
      allowed("BACKWARD", "JSON", [object({ n: { type: "string" } })], object({ n: { type: ["string", "null"] } })),
    ).toBe(true);
    expect(allowed("FORWARD", "JSON", [object({ n: { type: "integer" } })], object({ n: { type: "number" } }))).toBe(
      false,
    );
  });

  it("a new required property needs a default", () => {
    const v1 = object({ a: { type: "string" } });
    expect(
      allowed("BACKWARD", "JSON", [v1], object({ a: { type: "string" }, b: { type: "string" } }, { required: ["b"] })),
    ).toBe(false);
    expect(
      allowed(
        "BACKWARD",
        "JSON",
        [v1],
        object({ a: { type: "string" }, b: { type: "string", default: "x" } }, { required: ["b"] }),
      ),
    ).toBe(true);
    expect(allowed("BACKWARD", "JSON", [v1], object({ a: { type: "string" }, b: { type: "string" } }))).toBe(true);
  });

  it("a property removed under a closed content model is refused, under an open one accepted", () => {
    const v1 = object({ a: { type: "string" }, b: { type: "string" } }, { additionalProperties: false });
    expect(allowed("BACKWARD", "JSON", [v1], object({ a: { type: "string" } }, { additionalProperties: false }))).toBe(
      false,
    );
    expect(allowed("BACKWARD", "JSON", [v1], object({ a: { type: "string" } }))).toBe(true);
    // Closing an open model refuses documents with any other property.
    expect(
      allowed(
        "BACKWARD",
        "JSON",
        [object({ a: { type: "string" } })],
        object({ a: { type: "string" } }, { additionalProperties: false }),
      ),
    ).toBe(false);
  });

  it("enum narrowing, tighter bounds and nested properties are checked; local $refs are followed", () => {
    expect(allowed("BACKWARD", "JSON", [{ enum: ["a", "b"] }], { enum: ["a"] })).toBe(false);
    expect(allowed("BACKWARD", "JSON", [{ enum: ["a"] }], { enum: ["a", "b"] })).toBe(true);
    expect(allowed("BACKWARD", "JSON", [{ type: "string", maxLength: 10 }], { type: "string", maxLength: 5 })).toBe(
      false,
    );
    expect(allowed("BACKWARD", "JSON", [{ type: "string", maxLength: 5 }], { type: "string", maxLength: 10 })).toBe(
      true,
    );
    const nested = (t: string) => object({ o: object({ x: { type: t } }) });
    expect(allowed("BACKWARD", "JSON", [nested("number")], nested("integer"))).toBe(false);
    const viaRef = (t: string) => ({ definitions: { X: { type: t } }, ...object({ x: { $ref: "#/definitions/X" } }) });
    expect(allowed("BACKWARD", "JSON", [viaRef("number")], viaRef("integer"))).toBe(false);
    expect(allowed("BACKWARD", "JSON", [viaRef("integer")], viaRef("number"))).toBe(true);
    expect(
      allowed("BACKWARD", "JSON", [{ type: "array", items: { type: "number" } }], {
        type: "array",
        items: { type: "integer" },
      }),
    ).toBe(false);
  });

  it("decides validity with ajv (draft-07 by default, 2020-12 by $schema)", () => {
    expect(() => parse("JSON", { type: "no-such-type" })).toThrow(RegistryError);
    expect(() => parse("JSON", "[1]")).toThrow(RegistryError);
    expect(
      parse("JSON", { $schema: "https://json-schema.org/draft/2020-12/schema", prefixItems: [{ type: "string" }] }),
    ).toBeTruthy();
    expect(parse("JSON", true)).toBeTruthy();
  });
});

const proto = (body: string, pkg = "shop") => `syntax = "proto3";\npackage ${pkg};\n${body}`;

describe("Protobuf compatibility (documented core rules)", () => {
  const v1 = proto(
    "message Order { string id = 1; int32 count = 2; Item item = 3; }\nmessage Item { string sku = 1; }",
  );

  it("adding and removing fields and renaming them is compatible", () => {
    expect(
      allowed(
        "FULL",
        "PROTOBUF",
        [v1],
        proto(
          "message Order { string id = 1; int32 count = 2; Item item = 3; string note = 4; }\nmessage Item { string sku = 1; }",
        ),
      ),
    ).toBe(true);
    expect(
      allowed(
        "FULL",
        "PROTOBUF",
        [v1],
        proto("message Order { string ident = 1; Item item = 3; }\nmessage Item { string sku = 1; }"),
      ),
    ).toBe(true);
  });

  it("a changed scalar type is refused unless wire-compatible", () => {
    expect(allowed("BACKWARD", "PROTOBUF", [v1], v1.replace("int32 count", "string count"))).toBe(false);
    expect(allowed("BACKWARD", "PROTOBUF", [v1], v1.replace("int32 count", "int64 count"))).toBe(true);
    expect(allowed("BACKWARD", "PROTOBUF", [v1], v1.replace("string id", "bytes id"))).toBe(true);
  });

  it("a scalar turned message, a changed message type, a removed message, a changed package are refused", () => {
    expect(allowed("BACKWARD", "PROTOBUF", [v1], v1.replace("int32 count = 2", "Item count = 2"))).toBe(false);
    const other = proto(
      "message Order { string id = 1; int32 count = 2; Other item = 3; }\nmessage Other { string sku = 1; }",
    );
    expect(allowed("BACKWARD", "PROTOBUF", [v1], other)).toBe(false);
    expect(allowed("BACKWARD", "PROTOBUF", [v1], proto("message Order { string id = 1; int32 count = 2; }"))).toBe(
      false,
    );
    expect(allowed("BACKWARD", "PROTOBUF", [v1], v1.replace("package shop", "package store"))).toBe(false);
    // Nested through a message field: Item.sku changing kind is found from Order.
    expect(allowed("BACKWARD", "PROTOBUF", [v1], v1.replace("string sku = 1", "Item sku = 1"))).toBe(false);
  });

  it("a field moved into a oneof is refused", () => {
    const moved = proto(
      "message Order { oneof o { string id = 1; int32 count = 2; } Item item = 3; }\nmessage Item { string sku = 1; }",
    );
    expect(allowed("BACKWARD", "PROTOBUF", [v1], moved)).toBe(false);
  });

  it("rejects text protobufjs cannot parse, and unknown types, with 42201", () => {
    expect(() => parse("PROTOBUF", "message M { string a = 1 }")).toThrow(RegistryError);
    expect(() => parse("PROTOBUF", proto("message M { Missing a = 1; }"))).toThrow(RegistryError);
  });
});

describe("compatibility levels", () => {
  it("parses Confluent's names in any case and refuses others with 42203", () => {
    expect(parseLevel("full_transitive")).toBe("FULL_TRANSITIVE");
    expect(() => parseLevel("SIDEWAYS")).toThrow(expect.objectContaining({ errorCode: 42203 }));
  });

  it("names the version and level that refused, as Confluent's verbose answer does", () => {
    const problems = compatibilityProblems("BACKWARD", parse("AVRO", record([a, bRequired])), [
      { version: 4, parsed: parse("AVRO", record([a])) as ParsedSchema },
    ]);
    expect(problems).toContain("{oldSchemaVersion: 4}");
    expect(problems).toContain("{compatibility: 'BACKWARD'}");
  });
});
