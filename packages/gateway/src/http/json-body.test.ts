import { describe, expect, it } from "vitest";
import { RestError } from "../errors.ts";
import { type ParseOptions, parseJson } from "./json.ts";
import { JsonBodyParser } from "./json-body.ts";

type Outcome = { value: string } | { status: number; code: number; message: string };

const settle = (parse: () => unknown): Outcome => {
  try {
    // JSON.stringify keeps numbers parseJson kept as raw JSON, and the order of keys.
    return { value: JSON.stringify(parse()) ?? "undefined" };
  } catch (error) {
    if (!(error instanceof RestError)) throw error;
    return { status: error.status, code: error.errorCode, message: error.message };
  }
};

/** What reading the whole body as one string gives: the reference. */
const whole = (text: string, options?: ParseOptions) =>
  settle(() => (/\S/.test(text) ? parseJson(text, options) : undefined));

/** Bodies piecewise() saw read piece by piece rather than as a whole. */
let readPieceByPiece = 0;

/** The parser fed `text` cut at the given byte offsets. */
const piecewise = (text: string, cuts: number[], options?: ParseOptions) =>
  settle(() => {
    const bytes = Buffer.from(text);
    const parser = new JsonBodyParser(options);
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      parser.push(bytes.subarray(from, cut));
      from = cut;
    }
    const value = parser.end();
    if (parser.readPieceByPiece) readPieceByPiece++;
    return value;
  });

let seed = 20261126;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};

const bodies = [
  '{"records":[{"value":"Zm9v"},{"key":"YmFy","value":null,"partition":1}]}',
  ' \r\n{ "records" : [ { "value" : { "a" : [ 1 , 2.50 , { "b" : "}]\\"" } ] } } , {"value":true} ] , "value_schema_id" : 7 } \n',
  '{"records":[{"value":"caf\u00e9 \u20ac \ud83d\ude00","key":"\\u00e9\\\\"}],"key_schema":null}',
  '{"records":[{"value":12345678901234567890},{"value":1.0},{"value":-0},{"value":1e2}]}',
  '{"records":[],"records":[{"value":"last wins"}],"other":{"records":[1]}}',
  '{"entries":[1,"two",[3],{"four":4},null,false]}',
  '{"a":"x","b":[],"c":{},"d":[[]],"e":""}',
  "{}",
  '{"__proto__":{"polluted":true},"records":[{"value":"Zm9v"}]}',
  '[{"value":"Zm9v"}]',
  '"just a string"',
  "42",
  "",
  "   \n ",
  "\ufeff{}",
];

const mutate = (text: string): string => {
  const at = random(text.length + 1);
  const inserted = ['"', ",", "]", "}", "[", "{", ":", " ", "\\", "1", "x"][random(11)] as string;
  switch (random(3)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + inserted + text.slice(at);
    default:
      return text.slice(0, at);
  }
};

describe("JsonBodyParser", () => {
  it("gives what parsing the whole text gives, however the bytes are cut", () => {
    for (const text of bodies) {
      const expected = whole(text);
      const length = Buffer.byteLength(text);
      for (let cut = 0; cut <= length; cut++) expect(piecewise(text, [cut]), `${text} cut at ${cut}`).toEqual(expected);
      expect(
        piecewise(
          text,
          Array.from({ length }, (_, i) => i),
        ),
      ).toEqual(expected);
    }
  });

  it("reads every object body piece by piece, and only those", () => {
    const pieceByPiece = bodies.filter((text) => {
      const parser = new JsonBodyParser();
      parser.push(Buffer.from(text));
      settle(() => parser.end());
      return parser.readPieceByPiece;
    });
    expect(pieceByPiece).toEqual(bodies.filter((text) => /^[ \t\r\n]*\{/.test(text) && !text.includes("__proto__")));
  });

  it("gives the same answers and errors for thousands of broken variants", () => {
    readPieceByPiece = 0;
    for (let round = 0; round < 4000; round++) {
      let text = bodies[random(bodies.length)] as string;
      for (let n = 1 + random(3); n > 0; n--) text = mutate(text);
      const length = Buffer.byteLength(text);
      const cuts = [random(length + 1), random(length + 1)].sort((a, b) => a - b);
      const options = { exactNumbers: random(2) === 0 };
      expect(piecewise(text, cuts, options), JSON.stringify({ text, cuts })).toEqual(whole(text, options));
    }
    // Some variants stay valid (a space, a deleted character inside a string): those must have
    // been read piece by piece, or this test compares the whole-text path with itself.
    expect(readPieceByPiece).toBeGreaterThan(200);
  });

  it("reads a produce body of base64 values across socket-sized chunks", () => {
    const records = Array.from({ length: 100 }, (_, i) => ({
      value: Buffer.alloc(1024, i).toString("base64"),
      ...(i % 3 === 0 ? { key: Buffer.from(`k${i}`).toString("base64") } : {}),
    }));
    const text = JSON.stringify({ records });
    const bytes = Buffer.from(text);
    const parser = new JsonBodyParser({ exactNumbers: false });
    for (let from = 0; from < bytes.length; from += 65536) parser.push(bytes.subarray(from, from + 65536));
    expect(parser.end()).toEqual({ records });
    expect(parser.readPieceByPiece).toBe(true);
  });

  it('keeps "__proto__" an own property, as JSON.parse does, and pollutes nothing', () => {
    const parsed = piecewise('{"__proto__":{"polluted":true}}', [5]);
    expect(parsed).toEqual({ value: '{"__proto__":{"polluted":true}}' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
