/** The fan-out generator's event counter, on a stream cut into chunks at every possible place. */
import { describe, expect, it } from "vitest";
import { DataLineCounter } from "./fanout-scenario.ts";

const stream = Buffer.from(
  Array.from({ length: 40 }, (_, i) => `id: t:0:${i + 1}\ndata: {"value":"x${"y".repeat(i % 5)}"}\n\n`).join(""),
);

describe("fan-out data line counter", () => {
  it("counts every event however the stream is cut", () => {
    for (const size of [1, 2, 3, 5, 6, 7, 8, 13, 64, stream.length]) {
      const counter = new DataLineCounter();
      let events = 0;
      for (let at = 0; at < stream.length; at += size) events += counter.count(stream.subarray(at, at + size));
      expect(events, `chunks of ${size}`).toBe(40);
    }
  });
});
