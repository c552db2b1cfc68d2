import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { RestError } from "../../../errors.ts";
import { Links } from "./links.ts";
import { readAclBatch, readAclQuery, readAlterBatch, readCreateTopic, readPartitionsCount } from "./requests.ts";

const failure = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    const e = error as RestError;
    return { status: e.status, code: e.errorCode, message: e.message };
  }
  throw new Error("expected a failure");
};

describe("v3 request bodies", () => {
  it("reads a topic creation", () => {
    const topic = readCreateTopic({
      topic_name: "t",
      replicas_assignments: { "0": [1, 2], "1": [2, 3] },
      configs: [{ name: "cleanup.policy", value: "compact" }],
      validate_only: true,
    });
    expect(topic).toEqual({
      name: "t",
      partitions: null,
      replicationFactor: null,
      assignments: new Map([
        [0, [1, 2]],
        [1, [2, 3]],
      ]),
      configs: [{ name: "cleanup.policy", value: "compact" }],
      validateOnly: true,
    });
  });

  it("refuses what REST Proxy refuses, with its codes", () => {
    expect(failure(() => readCreateTopic(undefined))).toEqual({
      status: 422,
      code: 42206,
      message: "Payload error. Request body is empty. Data is required.",
    });
    expect(failure(() => readCreateTopic({ topic_name: "a/b" }))).toMatchObject({ status: 422, code: 42206 });
    expect(failure(() => readCreateTopic({ topic_name: "t", extra: 1 }))).toMatchObject({ status: 422, code: 422 });
    expect(failure(() => readCreateTopic({ topic_name: "t", partitions_count: "2" }))).toMatchObject({ status: 400 });
    expect(failure(() => readCreateTopic({}))).toMatchObject({ status: 400 });
    expect(failure(() => readPartitionsCount({}))).toMatchObject({ status: 400 });
    expect(failure(() => readAlterBatch({ data: [{ name: "x", operation: "APPEND" }] }))).toMatchObject({
      status: 400,
    });
    expect(failure(() => readAclBatch({}))).toMatchObject({ status: 422, code: 42206 });
  });

  it("defaults an alter entry to SET", () => {
    expect(
      readAlterBatch({
        data: [
          { name: "a", value: "1" },
          { name: "b", operation: "delete" },
        ],
      }),
    ).toEqual({
      commands: [
        { name: "a", operation: "SET", value: "1" },
        { name: "b", operation: "DELETE", value: null },
      ],
      validateOnly: false,
    });
  });
});

describe("ACL query filters", () => {
  const app = new Hono();
  app.get("/:mode", (c) => {
    try {
      return c.json(readAclQuery(c, c.req.param("mode") as "search" | "delete"));
    } catch (error) {
      const e = error as RestError;
      return c.json({ error_code: e.errorCode, message: e.message }, e.status as 400);
    }
  });
  const ask = async (path: string) => {
    const res = await app.request(path);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("searches for ANY by default, case-insensitively", async () => {
    expect((await ask("/search?resource_type=topic&principal=User:a")).body).toEqual({
      resourceType: "TOPIC",
      resourceName: null,
      patternType: "ANY",
      principal: "User:a",
      host: null,
      operation: "ANY",
      permission: "ANY",
    });
  });

  it("requires every enum on delete, refuses UNKNOWN, and 404s a value that names nothing", async () => {
    expect(await ask("/delete")).toEqual({
      status: 400,
      body: { error_code: 400, message: "resource_type cannot be unspecified or UNKNOWN" },
    });
    expect((await ask("/search?permission=unknown")).body.message).toBe("permission cannot be UNKNOWN");
    expect((await ask("/search?operation=dance")).status).toBe(404);
  });
});

describe("links", () => {
  it("escapes segments, skips empty ones, and names resources as CRNs", () => {
    const links = new Links("https://kafka.example.com/rest", "c1");
    expect(links.cluster("topics", "a b", "partitions", 0)).toBe(
      "https://kafka.example.com/rest/v3/clusters/c1/topics/a%20b/partitions/0",
    );
    expect(links.cluster("consumer-groups", "g", "consumers", "")).toBe(
      "https://kafka.example.com/rest/v3/clusters/c1/consumer-groups/g/consumers",
    );
    expect(links.crn("topic", "t", "partition", 1, "reassignment", null)).toBe(
      "crn:///kafka=c1/topic=t/partition=1/reassignment",
    );
  });
});
