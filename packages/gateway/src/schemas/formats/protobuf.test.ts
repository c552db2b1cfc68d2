/** Protobuf's JSON mapping in, JsonFormat's printing out, and Confluent's message indexes. */
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { ConversionError, SchemaParseError } from "./codec.ts";
import { compileProtobuf } from "./protobuf.ts";

const proto = `syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";
message Order {
  int64 order_id = 1;
  Status status = 2;
  repeated Line lines = 3;
  map<string, int32> counts = 4;
  bytes blob = 5;
  double price = 6;
  bool rush = 7;
  google.protobuf.Timestamp at = 8;
  uint32 small = 9;
  oneof contact { string email = 10; string phone = 11; }
  message Line { string sku = 1; int32 qty = 2; }
}
enum Status { NEW = 0; PAID = 1; }
message Other { string x = 1; message Inner { int32 y = 1; } }
`;
const root = protobuf.parse(proto, { keepCase: true }).root;
// The reference root needs the well-known type too (the codec adds protobufjs's bundled copy).
root.addJSON((protobuf.common.get("google/protobuf/timestamp.proto") as { nested: never }).nested);

describe("protobuf codec", () => {
  const codec = compileProtobuf(proto);

  it("writes indexes [0] as one zero byte, then the first message from the JSON mapping", () => {
    const bytes = Buffer.from(
      codec.encode({
        orderId: "9007199254740993",
        status: "PAID",
        lines: [{ sku: "A", qty: 2 }],
        counts: { a: 1 },
        blob: "AQI=",
        price: 1.5,
        rush: true,
        at: "1970-01-01T00:00:10.000000005Z",
        email: "a@b.c",
      }),
    );
    expect(bytes[0]).toBe(0);
    const Order = root.lookupType("shop.v1.Order");
    const decoded = Order.toObject(Order.decode(bytes.subarray(1)), { longs: String, enums: String, bytes: String });
    expect(decoded).toEqual({
      order_id: "9007199254740993",
      status: "PAID",
      lines: [{ sku: "A", qty: 2 }],
      counts: { a: 1 },
      blob: "AQI=",
      price: 1.5,
      rush: true,
      at: { seconds: "10", nanos: 5 },
      email: "a@b.c",
    });
    expect(codec.recordName).toBe("shop.v1.Order");
  });

  it("takes the .proto names, numbers as strings and enum numbers too", () => {
    const a = codec.encode({ order_id: 5, status: 1, small: "7", price: "2.5" });
    const b = codec.encode({ orderId: "5", status: "PAID", small: 7, price: 2.5 });
    expect(Buffer.from(a)).toEqual(Buffer.from(b));
  });

  it("prints as JsonFormat does with default values: JSON names, 64-bit as strings, enums by name", () => {
    const bytes = Buffer.from(codec.encode({ orderId: 3, lines: [{ sku: "A" }] }));
    expect(codec.decode(bytes)).toEqual({
      orderId: "3",
      status: "NEW",
      lines: [{ sku: "A", qty: 0 }],
      counts: {},
      blob: "",
      price: 0,
      rush: false,
      small: 0,
    });
  });

  it("reads records of other messages of the file by their message indexes", () => {
    const Inner = root.lookupType("shop.v1.Other.Inner");
    // Indexes [1, 0]: count 2, then 1 and 0, each a zigzag varint.
    const payload = Buffer.concat([Buffer.from([4, 2, 0]), Inner.encode({ y: 4 }).finish()]);
    expect(codec.decode(payload)).toEqual({ y: 4 });
    expect(() => codec.decode(Buffer.concat([Buffer.from([2, 10]), Buffer.from([])]))).toThrow(ConversionError);
  });

  it("refuses what JsonFormat's parser refuses", () => {
    const bad: unknown[] = [
      { nope: 1 },
      { status: "LOST" },
      { orderId: "abc" },
      { orderId: 1.5 },
      { small: -1 },
      { small: 2 ** 33 },
      { rush: "yes" },
      { lines: { sku: "A" } },
      { lines: ["A"] },
      { blob: "not base64!" },
      { counts: [1] },
      [1, 2],
      "text",
    ];
    for (const value of bad) expect(() => codec.encode(value), JSON.stringify(value)).toThrow(ConversionError);
  });

  it("takes and prints Timestamp, Duration and the wrappers in JsonFormat's JSON forms", () => {
    const wk = compileProtobuf(`syntax = "proto3";
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";
message E {
  google.protobuf.Timestamp at = 1;
  google.protobuf.Duration took = 2;
  google.protobuf.Int64Value count = 3;
  google.protobuf.StringValue name = 4;
  repeated google.protobuf.Timestamp seen = 5;
}`);
    const json = {
      at: "2024-02-29T12:00:00.123Z",
      took: "-1.500s",
      count: "12",
      name: "n",
      seen: ["2024-02-29T13:00:00+01:00"],
    };
    expect(wk.decode(Buffer.from(wk.encode(json)))).toEqual({
      at: "2024-02-29T12:00:00.123Z",
      took: "-1.500s",
      count: "12",
      name: "n",
      seen: ["2024-02-29T12:00:00Z"],
    });
    expect(() => wk.encode({ at: "yesterday" })).toThrow(ConversionError);
    expect(() => wk.encode({ took: "5m" })).toThrow(ConversionError);
    expect(() => wk.encode({ count: "x" })).toThrow(ConversionError);
  });

  it("refuses .proto text protobufjs cannot parse, or one without a message", () => {
    for (const text of [
      "message {",
      'syntax = "proto3";\nmessage A { string a = ; }',
      'syntax = "proto3";\nenum E { X = 0; }',
    ]) {
      expect(() => compileProtobuf(text)).toThrow(SchemaParseError);
    }
  });
});
