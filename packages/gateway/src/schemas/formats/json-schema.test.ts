/** JSON Schema: validated by ajv in the schema's draft, written as compact JSON text. */
import { describe, expect, it } from "vitest";
import { ConversionError, SchemaParseError } from "./codec.ts";
import { compileJsonSchema } from "./json-schema.ts";

describe("json schema codec", () => {
  it("validates draft-07 by default and writes compact JSON", () => {
    const codec = compileJsonSchema(
      JSON.stringify({
        title: "Order",
        type: "object",
        properties: { id: { type: "integer" }, email: { type: "string", format: "email" } },
        required: ["id"],
      }),
    );
    expect(Buffer.from(codec.encode({ id: 1, email: "a@b.c" })).toString()).toBe('{"id":1,"email":"a@b.c"}');
    expect(codec.recordName).toBe("Order");
    expect(() => codec.encode({ email: "a@b.c" })).toThrow(ConversionError);
    expect(() => codec.encode({ id: 1, email: "nope" })).toThrow(/email/);
    expect(() => codec.encode({ id: 1.5 })).toThrow(/\/id/);
  });

  it("follows $schema to 2020-12 keywords", () => {
    const codec = compileJsonSchema(
      JSON.stringify({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "array",
        prefixItems: [{ type: "string" }, { type: "integer" }],
        items: false,
      }),
    );
    expect(() => codec.encode(["a", 1])).not.toThrow();
    expect(() => codec.encode(["a", 1, 2])).toThrow(ConversionError);
  });

  it("allows unknown keywords, as Confluent's validator does, and reads what it wrote", () => {
    const codec = compileJsonSchema(JSON.stringify({ type: "object", "x-owner": "team", connect: { index: 1 } }));
    expect(codec.decode(Buffer.from('{"a":[1,{"b":null}]}'))).toEqual({ a: [1, { b: null }] });
    expect(() => codec.decode(Buffer.from("{broken"))).toThrow(ConversionError);
  });

  it("resolves references by their names", () => {
    const codec = compileJsonSchema(JSON.stringify({ type: "object", properties: { line: { $ref: "line.json" } } }), [
      { name: "line.json", schema: JSON.stringify({ type: "object", required: ["sku"] }) },
    ]);
    expect(() => codec.encode({ line: { sku: "A" } })).not.toThrow();
    expect(() => codec.encode({ line: {} })).toThrow(ConversionError);
  });

  it("refuses what is not a JSON Schema", () => {
    for (const text of ['{"type": 12}', '{"properties": {"a": {"type": "nope"}}}', "{not json", "12"]) {
      expect(() => compileJsonSchema(text), text).toThrow(SchemaParseError);
    }
  });
});
