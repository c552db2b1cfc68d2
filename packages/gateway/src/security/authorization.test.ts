import { describe, expect, it } from "vitest";
import { RestError } from "../errors.ts";
import { checkInstanceOwner, createAuthorizer, parseRules } from "./authorization.ts";
import type { Principal } from "./principal.ts";
import { consumerBodyTopics, scopeOf } from "./request-scope.ts";

const rules = parseRules(`
# who            operations               resources
User:alice       produce,consume          topic:orders,group:billing
Group:analysts   consume,read-admin       topic:metrics.*,group:analytics-*
User:root        *                        *
User:*           read-admin               topic:public.*   # anyone may look
`);
const authz = createAuthorizer(rules);
const alice: Principal = { name: "alice", groups: [], method: "basic" };
const ann: Principal = { name: "ann", groups: ["analysts"], method: "jwt" };
const root: Principal = { name: "root", groups: [], method: "apikey" };

describe("authorization rules", () => {
  it("allows what a rule grants and denies everything else", () => {
    expect(authz.allowed(alice, "produce", { type: "topic", name: "orders" })).toBe(true);
    expect(authz.allowed(alice, "produce", { type: "topic", name: "orders2" })).toBe(false);
    expect(authz.allowed(alice, "write-admin", { type: "topic", name: "orders" })).toBe(false);
    expect(authz.allowed(ann, "consume", { type: "topic", name: "metrics.cpu" })).toBe(true);
    expect(authz.allowed(ann, "consume", { type: "group", name: "analytics-1" })).toBe(true);
    expect(authz.allowed(ann, "produce", { type: "topic", name: "metrics.cpu" })).toBe(false);
    expect(authz.allowed(alice, "read-admin", { type: "topic", name: "public.news" })).toBe(true);
    expect(authz.allowed(root, "write-admin", { type: "cluster" })).toBe(true);
    // A pattern subscription needs consume on every topic.
    expect(authz.allowed(ann, "consume", { type: "topic", any: true })).toBe(false);
    expect(authz.allowed(root, "consume", { type: "topic", any: true })).toBe(true);
  });

  it("answers 403 / 40301 naming the refused resource", () => {
    try {
      authz.check(alice, "consume", [
        { type: "group", name: "billing" },
        { type: "topic", name: "secret" },
      ]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RestError);
      expect([(error as RestError).status, (error as RestError).errorCode]).toEqual([403, 40301]);
      expect((error as RestError).message).toContain("topic:secret");
    }
  });

  it("rejects malformed rules with the line number", () => {
    expect(() => parseRules("User:a produce", "r.txt")).toThrow(/r.txt:1/);
    expect(() => parseRules("\nUser:a fly topic:x", "r.txt")).toThrow(/r.txt:2: unknown operation "fly"/);
    expect(() => parseRules("Host:a produce topic:x")).toThrow(/User:<name> or Group:<name>/);
    expect(() => parseRules("User:a produce queue:x")).toThrow(/resource "queue:x"/);
  });

  it("keeps a consumer instance to its creator", () => {
    expect(() => checkInstanceOwner(null, alice)).not.toThrow();
    expect(() => checkInstanceOwner("alice", alice)).not.toThrow();
    expect(() => checkInstanceOwner("alice", ann)).toThrow(/another principal/);
    expect(() => checkInstanceOwner("alice", null)).toThrow(/another principal/);
  });
});

describe("request scopes", () => {
  const opts = { metricsOpen: false, eventStream: false };
  const scope = (method: string, path: string, o = opts) => scopeOf(method, path, o);
  it("classifies every route group", () => {
    expect(scope("GET", "/healthz")).toEqual({ kind: "open" });
    expect(scope("GET", "/readyz")).toEqual({ kind: "open" });
    expect(scope("GET", "/metrics")).toEqual({ kind: "authenticated" });
    expect(scope("GET", "/metrics", { ...opts, metricsOpen: true })).toEqual({ kind: "open" });
    expect(scope("GET", "/")).toEqual({ kind: "authenticated" });
    expect(scope("POST", "/topics/orders")).toMatchObject({ operation: "produce", resources: [{ name: "orders" }] });
    expect(scope("POST", "/topics/a%2Fb/partitions/1")).toMatchObject({
      operation: "produce",
      resources: [{ name: "a/b" }],
    });
    expect(scope("GET", "/topics")).toMatchObject({ operation: "read-admin", resources: [{ type: "cluster" }] });
    expect(scope("GET", "/topics/orders/partitions/0")).toMatchObject({ operation: "read-admin" });
    expect(scope("GET", "/topics/orders/stream")).toMatchObject({
      operation: "consume",
      resources: [{ name: "orders" }],
    });
    expect(scope("GET", "/topics/orders", { ...opts, eventStream: true })).toMatchObject({ operation: "consume" });
    expect(scope("GET", "/brokers")).toMatchObject({ operation: "read-admin", resources: [{ type: "cluster" }] });
    expect(scope("POST", "/consumers/g1")).toMatchObject({
      operation: "consume",
      resources: [{ type: "group", name: "g1" }],
    });
    expect(scope("POST", "/consumers/g1/instances/c/subscription")).toMatchObject({
      operation: "consume",
      body: "consumer-topics",
    });
    expect(scope("POST", "/v3/clusters/k/topics/orders/records")).toMatchObject({ operation: "produce" });
    expect(scope("POST", "/v3/clusters/k/topics/orders/records:batch")).toMatchObject({ operation: "produce" });
    expect(scope("POST", "/v3/clusters/k/topics")).toMatchObject({ operation: "write-admin", body: "created-topic" });
    expect(scope("DELETE", "/v3/clusters/k/topics/orders")).toMatchObject({
      operation: "write-admin",
      resources: [{ type: "topic", name: "orders" }],
    });
    expect(scope("GET", "/v3/clusters/k/topics/orders/partitions/0/replicas")).toMatchObject({
      operation: "read-admin",
    });
    expect(scope("POST", "/v3/clusters/k/topics/orders/configs:alter")).toMatchObject({ operation: "write-admin" });
    expect(scope("GET", "/v3/clusters/k/consumer-groups/g1/lag-summary")).toMatchObject({
      operation: "read-admin",
      resources: [{ type: "group", name: "g1" }],
    });
    expect(scope("POST", "/v3/clusters/k/acls")).toMatchObject({
      operation: "write-admin",
      resources: [{ type: "cluster" }],
    });
    // Unknown routes are cluster admin: closed until someone classifies them.
    expect(scope("PUT", "/something/new")).toMatchObject({
      operation: "write-admin",
      resources: [{ type: "cluster" }],
    });
  });

  it("finds the topics a consumer body names", () => {
    expect(consumerBodyTopics({ topics: ["a", "b", 3] })).toEqual({ topics: ["a", "b"], any: false });
    expect(consumerBodyTopics({ topic_pattern: "x.*" })).toEqual({ topics: [], any: true });
    expect(
      consumerBodyTopics({
        partitions: [{ topic: "p" }],
        offsets: [{ topic: "o" }, null],
        timestamps: [{ topic: "t" }],
      }),
    ).toEqual({ topics: ["p", "o", "t"], any: false });
    expect(consumerBodyTopics("nonsense")).toEqual({ topics: [], any: false });
  });
});
