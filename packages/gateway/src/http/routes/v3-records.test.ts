import { describe, expect, it } from "vitest";
import { RestError } from "../../errors.ts";
import { thrownRestError } from "../../testing.ts";
import { parseJson } from "../json.ts";
import { encodeV3Record, readV3Record, UnrecognizedFieldError, v3Error, v3Result } from "./v3-records.ts";

const encode = (input: unknown) => encodeV3Record(readV3Record(input), "t");

describe("readV3Record + encodeV3Record", () => {
  it("encodes every field of a full record", () => {
    const record = encode({
      partition_id: 2,
      headers: [
        { name: "h1", value: "aGk=" },
        { name: "h1", value: null },
        { name: "", value: "" },
      ],
      key: { type: "STRING", data: "clé" },
      value: { type: "JSON", data: { a: [1, null] } },
      timestamp: "2021-02-05T19:14:42.123Z",
    });
    expect(record).toEqual({
      topic: "t",
      partition: 2,
      key: Buffer.from("clé", "utf8"),
      value: Buffer.from('{"a":[1,null]}'),
      headers: [
        { name: "h1", value: Buffer.from("hi") },
        { name: "h1", value: null },
        { name: "", value: Buffer.alloc(0) },
      ],
      timestamp: Date.UTC(2021, 1, 5, 19, 14, 42, 123),
      keyType: "STRING",
      valueType: "JSON",
    });
  });

  it("produces null key and value for an empty object, with nothing to report about them", () => {
    expect(encode({})).toMatchObject({ partition: null, key: null, value: null, keyType: null, valueType: null });
    expect(encode({ key: null, value: null })).toMatchObject({ key: null, keyType: null });
  });

  it("produces a null with a known type for null data", () => {
    expect(encode({ key: { type: "BINARY", data: null }, value: { type: "STRING" } })).toMatchObject({
      key: null,
      keyType: "BINARY",
      value: null,
      valueType: "STRING",
    });
  });

  it("decodes BINARY with Guava's leniency and keeps JSON numbers exactly", () => {
    const record = encodeV3Record(
      readV3Record(
        parseJson(
          '{"key":{"type":"BINARY","data":"Zm9vYg"},"value":{"type":"JSON","data":[1.0,12345678901234567890]}}',
        ),
      ),
      "t",
    );
    expect(record.key?.toString()).toBe("foob");
    expect(record.value?.toString()).toBe("[1.0,12345678901234567890]");
  });

  it("reads timestamps as Jackson's Instant does: ISO-8601 or epoch seconds", () => {
    expect(encode({ timestamp: "2021-02-05T19:14:42Z" }).timestamp).toBe(1612552482000);
    expect(encode({ timestamp: "2021-02-05T20:14:42+01:00" }).timestamp).toBe(1612552482000);
    expect(encode({ timestamp: 1612552482 }).timestamp).toBe(1612552482000);
    expect(encode({ timestamp: 1612552482.5 }).timestamp).toBe(1612552482500);
    for (const bad of ["yesterday", "2021-02-05", "1612552482", true, -5, "1969-12-31T23:59:59Z"]) {
      expect(thrownRestError(() => readV3Record({ timestamp: bad }))).toMatchObject({ status: 400, errorCode: 400 });
    }
  });

  it("takes partition_id as Jackson takes an Integer", () => {
    expect(encode({ partition_id: "3" }).partition).toBe(3);
    for (const bad of [1.5, "x", true, 2 ** 31, [1]]) {
      expect(thrownRestError(() => readV3Record({ partition_id: bad }))).toMatchObject({ status: 400, errorCode: 400 });
    }
  });

  it("reports a negative partition_id as not found when encoding (REST Proxy: 40402)", () => {
    const request = readV3Record({ partition_id: -1 });
    expect(thrownRestError(() => encodeV3Record(request, "t"))).toMatchObject({ errorCode: 40402 });
  });

  it("refuses bad BINARY and STRING data with kafka-rest's BadRequest messages", () => {
    expect(thrownRestError(() => encode({ value: { type: "BINARY", data: "x" } })).message).toBe(
      'Bad Request: data="x" is not a valid base64 string.',
    );
    expect(thrownRestError(() => encode({ value: { type: "BINARY", data: 1 } })).message).toBe(
      "Bad Request: data=1 is not a base64 string.",
    );
    expect(thrownRestError(() => encode({ key: { type: "STRING", data: { a: 1 } } }))).toMatchObject({
      status: 400,
      errorCode: 400,
      message: 'Bad Request: data={"a":1} is not a string.',
    });
  });

  it("needs a schema registry for a key/value without type, or with a schema type (42206)", () => {
    for (const data of [
      { data: "x" },
      { data: null },
      { type: "AVRO", schema: '"string"', data: "x" },
      { schema_id: 1, data: "x" },
      { subject: "s", data: "x" },
    ]) {
      expect(thrownRestError(() => encode({ value: data }))).toMatchObject({
        status: 422,
        errorCode: 42206,
        message: "Payload error. Schema Registry must be configured when using schemas.",
      });
    }
  });

  it("applies REST Proxy's builder checks while reading, with its messages", () => {
    const cases: Array<[unknown, string]> = [
      [{ type: "BINARY", schema_id: 1 }, "'type=BINARY' cannot be used with 'schema_id'."],
      [{ type: "JSON", subject: "s" }, "'type=JSON' cannot be used with 'subject'."],
      [{ type: "STRING", schema: "x" }, "'type=STRING' cannot be used with 'schema'."],
      [{ type: "AVRO", schema_id: 1 }, "'schema_id=1' cannot be used with 'serializer'."],
      [{ type: "AVRO" }, "'schema_version=latest' cannot be used with 'serializer'."],
      [
        { subject: "s", subject_name_strategy: "TOPIC_NAME" },
        "Only one of 'subject_name_strategy' or 'subject' can be used.",
      ],
      [{ schema_id: 1, schema_version: 2 }, "Only one of 'schema_id', 'schema_version' or 'schema' can be used."],
    ];
    for (const [value, message] of cases) {
      expect(thrownRestError(() => readV3Record({ value }))).toMatchObject({ status: 400, errorCode: 400, message });
    }
  });

  it("refuses unknown fields anywhere, naming the field", () => {
    for (const input of [
      { records: [] },
      { value: { type: "JSON", data: 1, extra: true } },
      { headers: [{ name: "a", value: null, x: 1 }] },
      { id: "1" },
    ]) {
      const error = thrownRestError(() => readV3Record(input));
      expect(error).toBeInstanceOf(UnrecognizedFieldError);
      expect(error.message).toMatch(/^Unrecognized field "(records|extra|x|id)"/);
    }
    expect(readV3Record({ id: "1" }, true)).toMatchObject({ key: null });
  });

  it("refuses wrongly typed fields with 400", () => {
    for (const input of [
      null,
      [],
      "x",
      { headers: {} },
      { headers: [{ name: 1 }] },
      { headers: [{ name: "a", value: "aGk" }] }, // header values need padding
      { key: "raw" },
      { key: { type: "binary", data: "" } }, // enum names are case-sensitive
      { key: { type: "XML", data: "" } },
    ]) {
      expect(thrownRestError(() => readV3Record(input))).toMatchObject({ status: 400, errorCode: 400 });
    }
  });
});

describe("v3Result", () => {
  const record = encode({ key: { type: "BINARY", data: null }, value: { type: "STRING", data: "abc" } });

  it("reports a success as REST Proxy does, sizes -1 for null", () => {
    expect(v3Result("c1", record, { ok: true, partition: 1, offset: 7, timestamp: 1612552482000 })).toEqual({
      error_code: 200,
      cluster_id: "c1",
      topic_name: "t",
      partition_id: 1,
      offset: 7,
      timestamp: "2021-02-05T19:14:42Z",
      key: { type: "BINARY", size: -1 },
      value: { type: "STRING", size: 3 },
    });
  });

  it("writes milliseconds only when there are some, and leaves out what is unknown", () => {
    const bare = encode({});
    const result = v3Result("c1", bare, { ok: true, partition: 0, offset: 0, timestamp: 1612552482120 });
    expect(result).toEqual({
      error_code: 200,
      cluster_id: "c1",
      topic_name: "t",
      partition_id: 0,
      offset: 0,
      timestamp: "2021-02-05T19:14:42.120Z",
    });
    expect(v3Result("c1", bare, { ok: true, partition: 0, offset: 1, timestamp: null })).not.toHaveProperty(
      "timestamp",
    );
  });

  it("reports a delivery failure with its code", () => {
    const error = { errorCode: 50003, status: 503, message: "Local: Message timed out", retriable: true };
    expect(v3Result("c1", record, { ok: false, error })).toEqual({
      error_code: 50003,
      message: "Local: Message timed out",
    });
  });
});

describe("v3Error", () => {
  it("keeps 422 for constraint violations and moves the specific code into the message", () => {
    expect(
      v3Error(new RestError(422, 42206, "Payload error. Schema Registry must be configured when using schemas.")),
    ).toEqual({
      error_code: 422,
      message: "Error: 42206 : Payload error. Schema Registry must be configured when using schemas.",
    });
    expect(v3Error(new RestError(422, 42207, "Error serializing message. what\nregistry says"))).toEqual({
      error_code: 422,
      message: "Error: 42207 : Error serializing message. what\nregistry says",
    });
    expect(v3Error(new RestError(422, 422, "Unrecognized field: x"))).toEqual({
      error_code: 422,
      message: "Unrecognized field: x",
    });
  });

  it("passes other codes through, first line only, and hides non-REST errors", () => {
    expect(v3Error(new RestError(404, 40402, "Partition not found."))).toEqual({
      error_code: 40402,
      message: "Partition not found.",
    });
    expect(v3Error(new RestError(400, 400, "first\nsecond"))).toEqual({ error_code: 400, message: "first" });
    expect(v3Error(new Error("secret detail"))).toEqual({ error_code: 500, message: "Internal Server Error" });
  });
});
