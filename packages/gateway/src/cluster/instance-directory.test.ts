import { describe, expect, it } from "vitest";
import { consumerSettings } from "../testing.ts";
import { createMemoryDirectory } from "./instance-directory.ts";

const settings = (name: string) =>
  consumerSettings({ name, format: "binary", autoCommit: true, requestTimeoutMs: 1000 });

describe("memory directory (a lone node)", () => {
  it("claims a name once per group and forgets it on removal", async () => {
    const directory = createMemoryDirectory();
    expect(directory.distributed).toBe(false);
    expect(await directory.create("n1", { settings: settings("c"), subscription: { kind: "none" }, epoch: 1 })).toBe(
      true,
    );
    expect(await directory.create("n1", { settings: settings("c"), subscription: { kind: "none" }, epoch: 1 })).toBe(
      false,
    );
    await directory.saveSubscription("n1", "g", "c", { kind: "topics", topics: ["t"] });
    expect((await directory.lookup("g", "c"))?.record.subscription).toEqual({ kind: "topics", topics: ["t"] });
    await directory.remove("g", "c");
    expect(await directory.lookup("g", "c")).toBeNull();
    expect(await directory.adopt("n1", "g", "c")).toEqual({ gone: true });
  });
});
