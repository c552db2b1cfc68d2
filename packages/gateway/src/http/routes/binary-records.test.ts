import { describe, expect, it } from "vitest";
import type { ConsumedMessage } from "../../kafka/consumer-instance.ts";
import { renderBinaryRecords } from "./binary-records.ts";

const b64 = (data: Buffer | string | null | undefined) =>
  data === null || data === undefined ? null : Buffer.from(data).toString("base64");

/** The reference: what the generic path (an object per record and JSON.stringify) answers. */
function reference(messages: ConsumedMessage[], withMetadata: boolean): string {
  return JSON.stringify(
    messages.map((m) => {
      const record: Record<string, unknown> = {
        topic: m.topic,
        key: b64(m.key),
        value: b64(m.value),
        partition: m.partition,
        offset: m.offset,
      };
      if (withMetadata) {
        record.timestamp = m.timestamp ?? null;
        record.headers = (m.headers ?? []).flatMap((h) =>
          Object.entries(h).map(([name, value]) => ({ name, value: b64(value) })),
        );
      }
      return record;
    }),
  );
}

const message = (fields: Partial<ConsumedMessage>): ConsumedMessage =>
  ({ topic: "t", key: null, value: null, partition: 0, offset: 0, size: 0, ...fields }) as ConsumedMessage;

const cases: ConsumedMessage[] = [
  message({ value: Buffer.alloc(1024, 7), offset: 123_456_789, partition: 2, timestamp: 1_764_000_000_000 }),
  message({ key: Buffer.from("k"), value: Buffer.from("ab"), offset: 9_007_199_254_740_991 }),
  message({ key: "a string key é", value: Buffer.alloc(0), partition: 10, offset: 10 }),
  message({ topic: "other.topic_1-x", value: Buffer.from([0xff, 0x00, 0xfe]), offset: 1, timestamp: -1 }),
  message({
    value: Buffer.from("v"),
    offset: 100,
    headers: [{ 'h\u00e9"\n': Buffer.from("x") }, { plain: "text" as unknown as Buffer }],
  }),
  message({ topic: "t", value: undefined as unknown as Buffer, offset: 0 }),
];

describe("renderBinaryRecords", () => {
  it("answers an empty array for no records", () => {
    expect(renderBinaryRecords([], false).toString()).toBe("[]");
    expect(renderBinaryRecords([], true).toString()).toBe("[]");
  });

  it("writes what JSON.stringify of the record objects writes, byte for byte", () => {
    for (const withMetadata of [false, true]) {
      expect(renderBinaryRecords(cases, withMetadata).toString("utf8")).toBe(reference(cases, withMetadata));
      for (const m of cases) {
        expect(renderBinaryRecords([m], withMetadata).toString("utf8")).toBe(reference([m], withMetadata));
      }
    }
  });

  it("renders numbers that are not safe non-negative integers as JSON.stringify does", () => {
    const odd = [message({ offset: -1, partition: -5 }), message({ offset: 1.5 }), message({ offset: 2 ** 60 })];
    expect(renderBinaryRecords(odd, true).toString()).toBe(reference(odd, true));
  });

  it("renders a batch of a few thousand records", () => {
    const many = Array.from({ length: 3000 }, (_, i) =>
      message({ value: Buffer.alloc(i % 50, i), offset: i * 7919, partition: i % 3 }),
    );
    expect(renderBinaryRecords(many, false).toString()).toBe(reference(many, false));
  });
});
