import { describe, expect, it } from "vitest";
import { acknowledgedRecords, classify } from "./http-request.ts";

const body = (text: string) => [Buffer.from(text)];
const json = (value: unknown, space?: string) => JSON.stringify(value, null, space);

// Each endpoint's produce answer, as its code writes it (whitespace included).
const wharf = (offsets: Array<number | null>) =>
  json({
    offsets: offsets.map((offset) =>
      offset === null
        ? { partition: null, offset: null, error_code: 50002, error: "Local: Message timed out" }
        : { partition: 0, offset, error_code: null, error: null },
    ),
    key_schema_id: null,
    value_schema_id: null,
  });
const strimzi = (offsets: Array<number | null>) =>
  json({
    offsets: offsets.map((offset) =>
      offset === null ? { error_code: 500, message: "Expiring 1 record(s)" } : { partition: 2, offset },
    ),
  });
// Python's json.dumps puts a space after each colon and comma.
const karapace = (offsets: Array<number | null>) =>
  json({
    offsets: offsets.map((offset) =>
      offset === null
        ? { partition: null, offset: null, error_code: 1, error: "timed out" }
        : { partition: 1, offset, error_code: null, error: null },
    ),
    key_schema_id: null,
    value_schema_id: null,
  }).replaceAll('":', '": ');

describe("acknowledgedRecords", () => {
  it.each([
    ["Wharf", wharf],
    ["Strimzi Kafka Bridge", strimzi],
    ["Karapace", karapace],
  ])("counts the numeric offsets of a %s answer and not its failed records", (_name, answer) => {
    expect(acknowledgedRecords(Buffer.from(answer([0, 1, 1234567890])))).toBe(3);
    expect(acknowledgedRecords(Buffer.from(answer([7, null, 9, null])))).toBe(2);
    expect(acknowledgedRecords(Buffer.from(answer([null])))).toBe(0);
  });

  it("does not take the offsets array or pretty-printed nulls for an offset", () => {
    expect(acknowledgedRecords(Buffer.from('{"offsets":[]}'))).toBe(0);
    expect(acknowledgedRecords(Buffer.from(json({ offsets: [{ offset: null }] }, "  ")))).toBe(0);
    expect(acknowledgedRecords(Buffer.from(json({ offsets: [{ offset: 5 }] }, "  ")))).toBe(1);
  });
});

describe("classify", () => {
  it("is ok only when every record the request carried is acknowledged", () => {
    expect(classify(200, 3, body(strimzi([1, 2, 3])))).toBe("ok");
    expect(classify(200, 3, body(strimzi([1, null, 3])))).toBe("recordError");
    expect(classify(200, 3, body(wharf([1, 2])))).toBe("recordError");
    expect(classify(200, 1, [Buffer.from('{"offsets":[{"partition":0,"off'), Buffer.from('set":42}]}')])).toBe("ok");
  });

  it("tells throttling and HTTP errors apart from record errors", () => {
    expect(classify(429, 1, body('{"error_code":42901,"message":"slow down"}'))).toBe("throttled");
    expect(classify(503, 1, body('{"error_code":503,"message":"Bridge is overloaded"}'))).toBe("httpError");
    expect(classify(204, 1, body(""))).toBe("recordError");
  });

  it("asks nothing of the body of a request that produces nothing", () => {
    expect(classify(200, 0, null)).toBe("ok");
  });
});
