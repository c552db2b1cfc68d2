import { describe, expect, it } from "vitest";
import { thrownRestError } from "../testing.ts";
import {
  decodeBinaryData,
  decodeEmbedded,
  decodeLenientBase64,
  encodeEmbedded,
  isPaddedBase64,
  schemaFormatUnavailable,
} from "./embedded-format.ts";

describe("binary data (Guava's base64, as kafka-rest decodes it)", () => {
  it.each([
    ["", ""],
    ["Zm9v", "foo"],
    ["Zm9vYg==", "foob"],
    ["Zm9vYg", "foob"], // padding is optional
    ["Zm9vYmE=", "fooba"],
    ["Zm9vYmE", "fooba"],
    ["Zm9vYg=====", "foob"], // every trailing '=' is trimmed
    ["+/+/", "\u00fb\u00ff\u00bf"],
  ])("decodes %j", (text, latin1) => {
    expect(decodeLenientBase64(text)).not.toBeNull();
    expect(decodeBinaryData(text).toString("latin1")).toBe(latin1);
  });

  it.each([
    "Zm9vY", // a length of 4n+1 cannot be base64
    "Zm9v!",
    "Zm 9v",
    "Zm9v\n",
    "Zm9v-_", // URL-safe alphabet is not the standard one
    "Zm=9v",
    "=Zm9v",
  ])("refuses %j with 400 and REST Proxy's message", (text) => {
    expect(decodeLenientBase64(text)).toBeNull();
    const error = thrownRestError(() => decodeBinaryData(text));
    expect(error.status).toBe(400);
    expect(error.errorCode).toBe(400);
    expect(error.message).toBe(`Bad Request: data=${JSON.stringify(text)} is not a valid base64 string.`);
  });

  it("accepts exactly what Guava's alphabet and padding rules accept, and decodes as Node does", () => {
    // The rule as a regular expression over every character (what Wharf used to run): the
    // standard alphabet, then only trailing '=', and no length of 4n+1 once they are trimmed.
    const guava = (text: string) => {
      const trimmed = text.replace(/=+$/, "");
      return trimmed.length % 4 !== 1 && /^[A-Za-z0-9+/]*$/.test(trimmed);
    };
    // Mostly valid characters with a few of everything Node's decoder treats specially.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const odd = ["=", "-", "_", " ", "\n", "\t", "!", "\u00e9", "\u20ac", "\u0000", "."];
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = "";
      for (let length = random(14); length > 0; length--) {
        text += random(10) === 0 ? (odd[random(odd.length)] as string) : alphabet[random(64)];
      }
      if (random(3) === 0) text += "=".repeat(random(4));
      const decoded = decodeLenientBase64(text);
      expect(decoded !== null, JSON.stringify(text)).toBe(guava(text));
      if (decoded) {
        accepted++;
        expect(decoded.equals(Buffer.from(text, "base64")), JSON.stringify(text)).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(2000);
  });

  it.each([
    [42, "data=42 is not a base64 string."],
    [true, "data=true is not a base64 string."],
    [{ a: 1 }, 'data={"a":1} is not a base64 string.'],
    [["Zm9v"], 'data=["Zm9v"] is not a base64 string.'],
  ])("refuses the non-string %j", (data, message) => {
    const error = thrownRestError(() => decodeBinaryData(data));
    expect([error.status, error.errorCode, error.message]).toEqual([400, 400, `Bad Request: ${message}`]);
  });

  it("does not echo a huge value back in full", () => {
    const error = thrownRestError(() => decodeBinaryData(`${"A".repeat(100_000)}!`));
    expect(error.message.length).toBeLessThan(1200);
  });
});

describe("header values (Jackson's byte[]: padding required)", () => {
  it.each(["", "Zm9v", "Zm9vYg==", "Zm9vYmE="])("accepts %j", (text) => expect(isPaddedBase64(text)).toBe(true));
  it.each(["Zm9vYg", "Zm9vYmE", "Zm9vYg===", "Zm9v!", "Zm9vY"])("refuses %j", (text) =>
    expect(isPaddedBase64(text)).toBe(false),
  );
});

describe("encodeEmbedded / decodeEmbedded (v2)", () => {
  it("gives null for a null or absent key/value in both formats", () => {
    for (const format of ["binary", "json"] as const) {
      expect(encodeEmbedded(format, null)).toBeNull();
      expect(encodeEmbedded(format, undefined)).toBeNull();
      expect(decodeEmbedded(format, null)).toBeNull();
    }
  });

  it("writes json data as compact JSON and reads it back", () => {
    const data = { a: [1, "two", { three: null }], b: true };
    const bytes = encodeEmbedded("json", data) as Buffer;
    expect(bytes.toString()).toBe('{"a":[1,"two",{"three":null}],"b":true}');
    expect(decodeEmbedded("json", bytes)).toEqual(data);
    expect(encodeEmbedded("json", "text")?.toString()).toBe('"text"');
  });

  it("hands a json consumer bytes that are not JSON as text rather than failing the read", () => {
    expect(decodeEmbedded("json", Buffer.from("order-2"))).toBe("order-2");
  });

  it("round-trips binary data through base64", () => {
    const raw = Buffer.from([0, 1, 2, 250, 255]);
    const bytes = encodeEmbedded("binary", raw.toString("base64")) as Buffer;
    expect(bytes.equals(raw)).toBe(true);
    expect(decodeEmbedded("binary", bytes)).toBe(raw.toString("base64"));
  });
});

describe("schema formats without a schema registry", () => {
  it("fails the schema lookup (42206) when a schema is named, else serialization (42207)", () => {
    expect(schemaFormatUnavailable(true)).toMatchObject({
      status: 422,
      errorCode: 42206,
      message: "Payload error. Schema Registry must be configured when using schemas.",
    });
    expect(schemaFormatUnavailable(false)).toMatchObject({ status: 422, errorCode: 42207 });
  });
});
