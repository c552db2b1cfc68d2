import { describe, expect, it } from "vitest";
import { RestError } from "../../errors.ts";
import { Cursor } from "./cursor.ts";

describe("Cursor", () => {
  it("renders topic:partition:offset entries and parses them back", () => {
    const cursor = new Cursor();
    cursor.set("orders", 0, 15);
    cursor.set("orders", 2, 7);
    cursor.set("orders.v2", 0, 0);
    cursor.set("orders", 0, 16);
    expect(cursor.toString()).toBe("orders:0:16,orders:2:7,orders.v2:0:0");
    const parsed = Cursor.parse(cursor.toString());
    expect(parsed.get("orders", 0)).toBe(16);
    expect(parsed.get("orders", 2)).toBe(7);
    expect(parsed.get("orders.v2", 0)).toBe(0);
    expect(parsed.get("orders", 1)).toBeUndefined();
    expect(parsed.size).toBe(3);
  });

  it("escapes what would break the format, and never emits a line break", () => {
    const cursor = new Cursor();
    cursor.set("a:b,c\nd", 1, 2);
    expect(cursor.toString()).not.toMatch(/[\r\n]/);
    expect(Cursor.parse(cursor.toString()).get("a:b,c\nd", 1)).toBe(2);
  });

  it("treats an empty Last-Event-ID as no position", () => {
    expect(Cursor.parse("").size).toBe(0);
    expect(Cursor.parse("  ").size).toBe(0);
  });

  it("refuses what it did not write with a 400", () => {
    for (const bad of [
      "x",
      "t:0",
      "t:a:1",
      "t:0:-1",
      "t:0:1,",
      "t:0:1;u:1:2",
      "%E0%A4%A:0:1",
      "t:0:99999999999999999999",
    ]) {
      expect(() => Cursor.parse(bad), bad).toThrow(RestError);
    }
  });
});
