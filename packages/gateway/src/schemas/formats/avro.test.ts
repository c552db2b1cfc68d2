/** Avro's JSON encoding both ways, checked against avsc's own public fromString/toString. */
import avro from "avsc";
import { describe, expect, it } from "vitest";
import { compileAvro } from "./avro.ts";
import { ConversionError, SchemaParseError } from "./codec.ts";

const plain = {
  type: "record",
  name: "Order",
  namespace: "shop",
  fields: [
    { name: "id", type: "long" },
    { name: "note", type: ["null", "string"], default: null },
    { name: "status", type: { type: "enum", name: "Status", symbols: ["NEW", "PAID"] } },
    {
      name: "lines",
      type: { type: "array", items: { type: "record", name: "Line", fields: [{ name: "sku", type: "string" }] } },
    },
    { name: "attrs", type: { type: "map", values: ["int", "string"] } },
    { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "paid", type: ["null", "Line"], default: null },
  ],
};
const withBinary = {
  type: "record",
  name: "Blob",
  fields: [
    { name: "raw", type: "bytes" },
    { name: "md5", type: { type: "fixed", name: "Md5", size: 2 } },
    { name: "maybe", type: ["null", "bytes"] },
    { name: "price", type: { type: "bytes", logicalType: "decimal", precision: 6, scale: 2 } },
  ],
};
const recursive = {
  type: "record",
  name: "Node",
  fields: [
    { name: "value", type: "int" },
    { name: "next", type: ["null", "Node"], default: null },
  ],
};

/** avsc's public JSON text conversion, the reference for what the codec must do. */
const reference = (schema: object) => avro.Type.forSchema(schema as never);
const viaReference = (schema: object, json: unknown) => {
  const type = reference(schema);
  return type.toBuffer(type.fromString(JSON.stringify(json)));
};

describe("avro codec", () => {
  const order = {
    id: 7,
    note: { string: "ring twice" },
    status: "PAID",
    lines: [{ sku: "A" }, { sku: "B" }],
    attrs: { n: { int: 1 }, s: { string: "x" } },
    at: 1_700_000_000_000,
    paid: { "shop.Line": { sku: "A" } },
  };

  it("writes the JSON encoding of a schema without bytes as avsc's fromString does, and reads it back", () => {
    const codec = compileAvro(JSON.stringify(plain));
    const bytes = Buffer.from(codec.encode(order));
    expect(bytes).toEqual(viaReference(plain, order));
    expect(JSON.parse(JSON.stringify(codec.decode(bytes)))).toEqual(order);
    expect(codec.recordName).toBe("shop.Order");
  });

  it("fills defaults for missing fields and takes null for a nullable union", () => {
    const codec = compileAvro(JSON.stringify(plain));
    const { note: _, paid: __, ...rest } = order;
    const decoded = JSON.parse(JSON.stringify(codec.decode(Buffer.from(codec.encode(rest)))));
    expect(decoded.note).toBeNull();
    expect(decoded.paid).toBeNull();
  });

  it("converts bytes, fixed and decimals as strings of code points, both ways", () => {
    const codec = compileAvro(JSON.stringify(withBinary));
    const json = { raw: "\u0000\u00ff", md5: "\u0001\u0002", maybe: { bytes: "\u00e9" }, price: "\u0004\u00d2" };
    const bytes = Buffer.from(codec.encode(json));
    expect(bytes).toEqual(viaReference(withBinary, json));
    expect(codec.decode(bytes)).toEqual(json);
    expect(() => codec.encode({ ...json, md5: "\u0001" })).toThrow(ConversionError);
  });

  it("handles recursive schemas and primitives", () => {
    const list = compileAvro(JSON.stringify(recursive));
    const json = { value: 1, next: { Node: { value: 2, next: null } } };
    expect(JSON.parse(JSON.stringify(list.decode(Buffer.from(list.encode(json)))))).toEqual(json);
    const str = compileAvro('"string"');
    expect(str.recordName).toBe("string");
    expect(str.decode(Buffer.from(str.encode("hé")))).toBe("hé");
  });

  it("refuses what Avro's JSON decoder refuses", () => {
    const codec = compileAvro(JSON.stringify(plain));
    const bad: unknown[] = [
      { ...order, note: "not wrapped" },
      { ...order, note: { int: 1 } },
      { ...order, status: "LOST" },
      { ...order, id: "7" },
      { ...order, id: 1.5 },
      { ...order, lines: [{}] },
      "a string",
      null,
    ];
    for (const value of bad) expect(() => codec.encode(value), JSON.stringify(value)).toThrow(ConversionError);
  });

  it("resolves named types from referenced schemas", () => {
    const line = JSON.stringify({
      type: "record",
      name: "Line",
      namespace: "shop",
      fields: [{ name: "sku", type: "string" }],
    });
    const main = JSON.stringify({
      type: "record",
      name: "Cart",
      namespace: "shop",
      fields: [{ name: "line", type: "shop.Line" }],
    });
    const codec = compileAvro(main, [line]);
    expect(JSON.parse(JSON.stringify(codec.decode(Buffer.from(codec.encode({ line: { sku: "Z" } })))))).toEqual({
      line: { sku: "Z" },
    });
  });

  it("refuses schemas avsc cannot parse", () => {
    for (const text of ['{"type":"record","name":"X"}', '{"type":"nope"}', "not json"]) {
      expect(() => compileAvro(text)).toThrow(SchemaParseError);
    }
  });

  it("reports a payload that does not match its schema as a conversion error", () => {
    const codec = compileAvro(JSON.stringify(plain));
    expect(() => codec.decode(Buffer.from([0xff, 0xff, 0xff]))).toThrow(ConversionError);
  });
});
