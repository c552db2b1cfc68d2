import { describe, expect, it } from "vitest";
import { RestError } from "../errors.ts";
import { isObject, parseJson, rawNumberText } from "./json.ts";

describe("parseJson", () => {
  it("keeps numbers JSON.parse would change, so JSON data reaches Kafka as sent", () => {
    const text = '{"big":12345678901234567890,"one":1.0,"exp":1e2,"neg":-0,"long":0.30000000000000004}';
    expect(JSON.stringify(parseJson(text))).toBe(text);
  });

  it("keeps every lossy number wherever it stands, also in a long body of base64 strings", () => {
    const numbers = ["1.0", "1e2", "-0", "12345678901234567", "9007199254740993", "2.50", "-1E-7", "0.1", "7"];
    const padding = "QUJDRA0123456789+/".repeat(80);
    for (let i = 0; i < 200; i++) {
      const picked = Array.from({ length: 1 + (i % 5) }, (_, k) => numbers[(i * 7 + k * 3) % numbers.length]);
      const text = `{"v":"${padding}","n":[${picked.join(i % 2 ? ", " : ",")}]}`;
      const expected = `{"v":"${padding}","n":[${picked.join(",")}]}`;
      expect(JSON.stringify(parseJson(text))).toBe(expected);
    }
  });

  it("leaves ordinary numbers as numbers", () => {
    const value = parseJson('{"a":1,"b":-2.5,"c":[0,3]}') as Record<string, unknown>;
    expect(value).toEqual({ a: 1, b: -2.5, c: [0, 3] });
    expect(rawNumberText(value.a)).toBeNull();
  });

  it("gives the raw text of a kept number, which is neither an object nor a number", () => {
    const value = parseJson('{"p":1.0,"q":99999999999999999999}') as Record<string, unknown>;
    expect(rawNumberText(value.p)).toBe("1.0");
    expect(rawNumberText(value.q)).toBe("99999999999999999999");
    expect(isObject(value.p)).toBe(false);
    expect(isObject(value)).toBe(true);
  });

  it("refuses malformed JSON with 400 / 400", () => {
    for (const text of ["{", '{"a":}', "{'a':1}", '{"a":1} x']) {
      try {
        parseJson(text);
        expect.unreachable(text);
      } catch (error) {
        expect(error).toBeInstanceOf(RestError);
        expect(error).toMatchObject({ status: 400, errorCode: 400 });
      }
    }
  });
});
