/**
 * Schemas and records for the schema format tests, each record written in REST Proxy's JSON
 * for its format: Avro's JSON encoding (unions as {"type": value}, bytes as strings of code points,
 * logical types as their underlying type), JSON Schema's plain JSON, Protobuf's JSON mapping.
 */
import type { SchemaFormat } from "./schemas-helpers.ts";

export const AVRO_KEY = '"string"';

/** Every Avro conversion REST Proxy users rely on, in one record. */
export const AVRO_ORDER = JSON.stringify({
  type: "record",
  name: "Order",
  namespace: "wharf.test",
  fields: [
    { name: "id", type: "long" },
    { name: "note", type: ["null", "string"], default: null },
    { name: "raw", type: "bytes" },
    { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 9, scale: 2 } },
    { name: "status", type: { type: "enum", name: "Status", symbols: ["NEW", "PAID", "SHIPPED"] } },
    {
      name: "customer",
      type: {
        type: "record",
        name: "Customer",
        fields: [
          { name: "name", type: "string" },
          { name: "tier", type: "int" },
        ],
      },
    },
    { name: "tags", type: { type: "array", items: "string" } },
  ],
});

/** 12.34 as an Avro decimal of scale 2: the unscaled 1234 = 0x04d2, big-endian two's complement. */
const AMOUNT_1234 = "\u0004\u00d2";
/** -1.00: unscaled -100 = 0x9c in one byte. */
const AMOUNT_MINUS_100 = "\u009c";

export const AVRO_ORDERS = [
  {
    id: 1,
    note: { string: "leave at the door" },
    raw: "\u0000\u00ff\u0010A",
    at: 1_700_000_000_123,
    amount: AMOUNT_1234,
    status: "PAID",
    customer: { name: "Ann", tier: 2 },
    tags: ["gift", "express"],
  },
  {
    id: 4_102_444_800_123,
    note: null,
    raw: "",
    at: 0,
    amount: AMOUNT_MINUS_100,
    status: "NEW",
    customer: { name: "Bé", tier: -1 },
    tags: [],
  },
];

/**
 * What Confluent's Python AvroDeserializer gives for AVRO_ORDERS, as wire-decode.py writes it in
 * JSON: unions unwrapped, bytes as strings of code points, decimals as their string, timestamps as
 * ISO 8601 in UTC.
 */
export const AVRO_ORDERS_DECODED = [
  {
    id: 1,
    note: "leave at the door",
    raw: "\u0000\u00ff\u0010A",
    at: "2023-11-14T22:13:20.123000+00:00",
    amount: "12.34",
    status: "PAID",
    customer: { name: "Ann", tier: 2 },
    tags: ["gift", "express"],
  },
  {
    id: 4_102_444_800_123,
    note: null,
    raw: "",
    at: "1970-01-01T00:00:00+00:00",
    amount: "-1.00",
    status: "NEW",
    customer: { name: "Bé", tier: -1 },
    tags: [],
  },
];

export const JSON_KEY = JSON.stringify({ type: "string" });

export const JSON_ORDER = JSON.stringify({
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Order",
  type: "object",
  properties: {
    id: { type: "integer" },
    name: { type: "string", minLength: 1 },
    total: { type: "number" },
    line: {
      type: "object",
      properties: { sku: { type: "string" }, quantity: { type: "integer", minimum: 1 } },
      required: ["sku", "quantity"],
    },
    tags: { type: "array", items: { type: "string" } },
  },
  required: ["id", "name"],
  additionalProperties: false,
});

export const JSON_ORDERS = [
  { id: 1, name: "Ann", total: 12.5, line: { sku: "A-1", quantity: 3 }, tags: ["gift"] },
  { id: 2, name: "Bé" },
];

export const PROTOBUF_KEY = 'syntax = "proto3";\npackage wharf.test;\n\nmessage OrderKey {\n  string id = 1;\n}\n';

/** A nested message and a nested enum, from Protobuf's JSON mapping. */
export const PROTOBUF_ORDER = `syntax = "proto3";
package wharf.test;

message Order {
  int64 id = 1;
  string customer_name = 2;
  Status status = 3;
  Line line = 4;
  repeated string tags = 5;

  enum Status {
    NEW = 0;
    PAID = 1;
    SHIPPED = 2;
  }

  message Line {
    string sku = 1;
    int32 quantity = 2;
  }
}
`;

/** As clients write them: proto field names or lowerCamelCase, enums by name or number, int64 as string or number. */
export const PROTOBUF_ORDERS = [
  { id: 7, customer_name: "Ann", status: "PAID", line: { sku: "A-1", quantity: 3 }, tags: ["gift"] },
  { id: "9007199254740993", customerName: "Bé", status: 2, line: { sku: "B-2", quantity: 1 }, tags: [] },
];

/** MessageToDict(preserving_proto_field_name=True): int64 as strings, defaults left out. */
export const PROTOBUF_ORDERS_DECODED = [
  { id: "7", customer_name: "Ann", status: "PAID", line: { sku: "A-1", quantity: 3 }, tags: ["gift"] },
  { id: "9007199254740993", customer_name: "Bé", status: "SHIPPED", line: { sku: "B-2", quantity: 1 } },
];

/**
 * What REST Proxy's consumer answers for PROTOBUF_ORDERS: JsonFormat's printer with default
 * values included, so lowerCamelCase names, int64 as strings, enums by name, empty repeated
 * fields as [] (a message field that is not set stays absent).
 */
export const PROTOBUF_ORDERS_REST = [
  { id: "7", customerName: "Ann", status: "PAID", line: { sku: "A-1", quantity: 3 }, tags: ["gift"] },
  { id: "9007199254740993", customerName: "Bé", status: "SHIPPED", line: { sku: "B-2", quantity: 1 }, tags: [] },
];

export const KEY_SCHEMA: Record<SchemaFormat, string> = {
  avro: AVRO_KEY,
  jsonschema: JSON_KEY,
  protobuf: PROTOBUF_KEY,
};
export const VALUE_SCHEMA: Record<SchemaFormat, string> = {
  avro: AVRO_ORDER,
  jsonschema: JSON_ORDER,
  protobuf: PROTOBUF_ORDER,
};
/** Per format: records as produced (key, value) and the key as an independent decoder gives it. */
export const RECORDS: Record<SchemaFormat, Array<{ key: unknown; value: unknown }>> = {
  avro: AVRO_ORDERS.map((value, i) => ({ key: `order-${i}`, value })),
  jsonschema: JSON_ORDERS.map((value, i) => ({ key: `order-${i}`, value })),
  protobuf: PROTOBUF_ORDERS.map((value, i) => ({ key: { id: `order-${i}` }, value })),
};
export const DECODED_VALUES: Record<SchemaFormat, unknown[]> = {
  avro: AVRO_ORDERS_DECODED,
  jsonschema: JSON_ORDERS,
  protobuf: PROTOBUF_ORDERS_DECODED,
};
/** What REST Proxy's v2 consumer answers for each record's value. */
export const CONSUMED_VALUES: Record<SchemaFormat, unknown[]> = {
  avro: AVRO_ORDERS,
  jsonschema: JSON_ORDERS,
  protobuf: PROTOBUF_ORDERS_REST,
};
