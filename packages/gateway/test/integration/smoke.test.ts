import { describe, expect, it } from "vitest";
import { call, lbUrl, stack } from "./helpers.ts";

describe("stack", () => {
  it("serves Confluent's root document through the load balancer", async () => {
    const res = await call("GET", `${lbUrl()}/`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    expect(stack().gateways).toHaveLength(3);
  });
});
