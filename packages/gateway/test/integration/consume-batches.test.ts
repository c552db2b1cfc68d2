/**
 * GET records in large and small batches: what one answer holds follows max_bytes whatever a
 * poll brought or an earlier read left over, and a backlog read through answers of every size
 * comes out once, in order, with nothing skipped.
 */
import { describe, expect, it } from "vitest";
import { createConsumer, instanceCall, produceKeyedByOffset, readRecords } from "./consumer-helpers.ts";
import { createTopic, gatewayUrl, unique } from "./helpers.ts";

const RECORDS = 3000;
const VALUE = Buffer.alloc(1024, 0x61).toString("base64");

describe("records in batches", () => {
  it("reads a backlog once and in order through answers bounded by max_bytes", async () => {
    const topic = await createTopic(unique("batches"), 1);
    // The owner itself, so that reads are served by the instance and not forwarded.
    const base = gatewayUrl(0);
    await produceKeyedByOffset(base, topic, RECORDS, VALUE);
    const consumer = await createConsumer(base, unique("g"), "c1");
    const assigned = await instanceCall(consumer, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] });
    expect(assigned.status, assigned.text).toBe(204);

    const offsets: number[] = [];
    // Small answers first (the rest of each poll waits in the instance), then large ones.
    const plan = [5000, 3000, 1, 20_000, 4 * 1024 * 1024, 1500, 4 * 1024 * 1024];
    for (let i = 0; offsets.length < RECORDS && i < 200; i++) {
      const maxBytes = plan[Math.min(i, plan.length - 1)] as number;
      const records = await readRecords(consumer, 2000, undefined, maxBytes);
      if (records.length === 0) continue;
      // max_bytes counts keys and values; a single record over it still comes alone.
      const bytes = records.reduce(
        (sum, r) =>
          sum + Buffer.from(r.value as string, "base64").length + Buffer.from(r.key as string, "base64").length,
        0,
      );
      if (records.length > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
      if (maxBytes < 1024) expect(records.length).toBe(1);
      for (const r of records) {
        expect(r.topic).toBe(topic);
        expect(Buffer.from(r.key as string, "base64").toString()).toBe(String(r.offset));
        expect(r.value).toBe(VALUE);
        offsets.push(r.offset);
      }
    }
    expect(offsets).toEqual(Array.from({ length: RECORDS }, (_, i) => i));
    await instanceCall(consumer, "DELETE", "");
  });
});
