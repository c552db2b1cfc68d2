import { describe, expect, it } from "vitest";
import { ConcatenatedJsonSplitter } from "./json-stream.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds `text` cut at the given byte offsets and returns every value the splitter finished. */
function split(text: string, cuts: number[] = [], max = 1 << 20): string[] {
  const all = bytes(text);
  const splitter = new ConcatenatedJsonSplitter(max);
  const out: string[] = [];
  let from = 0;
  for (const cut of [...cuts, all.length]) {
    out.push(...splitter.push(all.subarray(from, cut)).map((v) => v.text));
    from = cut;
  }
  const rest = splitter.end();
  if (rest !== null) out.push(rest.text);
  return out;
}

/** Every way of cutting `text` into two chunks must give the same values. */
function everyCut(text: string): string[][] {
  const length = bytes(text).length;
  return Array.from({ length: length + 1 }, (_, i) => split(text, [i]));
}

describe("ConcatenatedJsonSplitter", () => {
  it("splits concatenated objects, whatever whitespace separates them", () => {
    expect(split('{"a":1}{"b":2}\r\n{"c":3}\n\t {"d":4}  ')).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}']);
  });

  it("keeps nested objects and arrays whole", () => {
    const nested = '{"a":{"b":[1,{"c":[[],{}]}]},"d":[{"e":{}}]}';
    expect(split(`${nested}${nested}`)).toEqual([nested, nested]);
  });

  it("ignores braces, brackets and escaped quotes inside strings", () => {
    const tricky = '{"s":"}{][\\"}\\\\","t":"\\\\\\"{"}';
    expect(JSON.parse(tricky)).toEqual({ s: '}{]["}\\', t: '\\"{' });
    expect(split(`${tricky} ${tricky}`)).toEqual([tricky, tricky]);
  });

  it("gives the same values wherever a chunk boundary falls (inside strings and escapes too)", () => {
    const text = '{"k":"a\\"}b","v":{"x":[1,2]}}\r\n{"k":"\\\\","v":"é€"}';
    const expected = ['{"k":"a\\"}b","v":{"x":[1,2]}}', '{"k":"\\\\","v":"é€"}'];
    for (const values of everyCut(text)) expect(values).toEqual(expected);
  });

  it("survives a value fed one byte at a time, multi-byte characters included", () => {
    const text = '{"emoji":"😀","quote":"\\""} {"n":null}';
    const cuts = Array.from({ length: bytes(text).length }, (_, i) => i);
    const values = split(text, cuts);
    expect(values).toEqual(['{"emoji":"😀","quote":"\\""}', '{"n":null}']);
    expect(JSON.parse(values[0] as string)).toEqual({ emoji: "😀", quote: '"' });
  });

  it("finds every value in long strings full of quotes, backslashes and braces, however it is cut", () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    const pieces = ['"', "\\", "{", "}", "[", "]", "a", "QUJD".repeat(50), "é", "\\\\", '\\"'];
    const values = Array.from({ length: 60 }, () => {
      let text = "";
      for (let k = random(12); k > 0; k--) text += pieces[random(pieces.length)];
      return JSON.stringify({ v: text, n: [random(9), { s: text.slice(0, 3) }] });
    });
    const body = values.join("\r\n");
    const length = bytes(body).length;
    for (let round = 0; round < 20; round++) {
      const cuts = Array.from({ length: 1 + random(40) }, () => random(length)).sort((a, b) => a - b);
      expect(split(body, cuts)).toEqual(values);
    }
  });

  it("returns nothing at the end of a body that held only whitespace", () => {
    expect(split(" \r\n\t ")).toEqual([]);
    expect(split("")).toEqual([]);
  });

  it("hands back an unterminated value at the end, for JSON.parse to refuse", () => {
    const values = split('{"a":1}{"b":');
    expect(values).toEqual(['{"a":1}', '{"b":']);
    expect(() => JSON.parse(values[1] as string)).toThrow();
  });

  it("says whether a value has a digit outside its strings, across chunks", () => {
    const values = (text: string, cut: number) => {
      const splitter = new ConcatenatedJsonSplitter(1 << 20);
      const all = bytes(text);
      return [...splitter.push(all.subarray(0, cut)), ...splitter.push(all.subarray(cut))].map((v) => v.hasNumbers);
    };
    const text = '{"a":"123","b":"x"} {"c":[1]} {"d":"4\\"5"} {"e":-0.5e2}';
    for (let cut = 0; cut <= text.length; cut++) expect(values(text, cut)).toEqual([false, true, false, true]);
  });

  it("throws a RangeError when a value grows past the limit across chunks", () => {
    const splitter = new ConcatenatedJsonSplitter(16);
    expect(splitter.push(bytes('{"a":"0123'))).toEqual([]);
    expect(() => splitter.push(bytes("456789abcdef"))).toThrow(RangeError);
  });

  it("accepts a value of exactly the limit and many small values beyond it in total", () => {
    const value = '{"a":"012345"}'; // 14 bytes
    const splitter = new ConcatenatedJsonSplitter(14);
    const out: string[] = [];
    for (let i = 0; i < 50; i++) {
      out.push(...splitter.push(bytes(value.slice(0, 7))).map((v) => v.text));
      out.push(...splitter.push(bytes(`${value.slice(7)}\r\n`)).map((v) => v.text));
    }
    expect(out).toHaveLength(50);
    expect(new Set(out)).toEqual(new Set([value]));
  });
});
