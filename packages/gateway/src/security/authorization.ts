/**
 * Per-principal authorization: allow rules over operations and resources, everything else denied.
 *
 * Rules file, one rule a line (# starts a comment):
 *
 *     <who>            <operations>              <resources>
 *     User:alice       produce,consume           topic:orders,group:billing
 *     Group:analysts   consume,read-admin        topic:metrics.*,group:analytics-*
 *     User:root        *                         *
 *
 * who: User:<name>, Group:<name> (from the credentials/API key file or the JWT groups claim),
 * User:* (any authenticated principal). Operations: produce, consume, read-admin, write-admin, *.
 * Resources: topic:<name>, group:<name> (a trailing * makes a prefix), cluster (listing topics,
 * brokers, ACLs and other cluster-wide admin), * (everything).
 */
import { readFileSync } from "node:fs";
import { forbidden } from "../errors.ts";
import type { Principal } from "./principal.ts";

export const OPERATIONS = ["produce", "consume", "read-admin", "write-admin"] as const;
export type Operation = (typeof OPERATIONS)[number];

export type Resource =
  | { type: "topic" | "group"; name: string }
  /** Every topic: what a pattern subscription may reach. */
  | { type: "topic"; any: true }
  | { type: "cluster" };

interface ResourcePattern {
  type: "topic" | "group" | "cluster" | "*";
  name: string;
  prefix: boolean;
}

export interface Rule {
  who: { kind: "user" | "group"; name: string };
  operations: Set<Operation>;
  resources: ResourcePattern[];
}

function parseResource(text: string, where: string): ResourcePattern {
  if (text === "*") return { type: "*", name: "", prefix: true };
  if (text === "cluster") return { type: "cluster", name: "", prefix: false };
  const match = /^(topic|group):(.+)$/.exec(text);
  if (!match) throw new Error(`${where}: resource "${text}" is not topic:<name>, group:<name>, cluster or *`);
  const name = match[2] as string;
  const prefix = name.endsWith("*");
  return { type: match[1] as "topic" | "group", name: prefix ? name.slice(0, -1) : name, prefix };
}

export function parseRules(text: string, file = "rules"): Rule[] {
  const rules: Rule[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const where = `${file}:${i + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 3) throw new Error(`${where}: expected "<who> <operations> <resources>"`);
    const [who, ops, resources] = fields as [string, string, string];
    const whoMatch = /^(User|Group):(.+)$/.exec(who);
    if (!whoMatch) throw new Error(`${where}: "${who}" is not User:<name> or Group:<name>`);
    const operations = new Set<Operation>();
    for (const op of ops.split(",")) {
      if (op === "*") for (const o of OPERATIONS) operations.add(o);
      else if ((OPERATIONS as readonly string[]).includes(op)) operations.add(op as Operation);
      else throw new Error(`${where}: unknown operation "${op}" (${OPERATIONS.join(", ")} or *)`);
    }
    rules.push({
      who: { kind: whoMatch[1] === "User" ? "user" : "group", name: whoMatch[2] as string },
      operations,
      resources: resources.split(",").map((r) => parseResource(r, where)),
    });
  });
  return rules;
}

export function readRulesFile(path: string): Rule[] {
  return parseRules(readFileSync(path, "utf8"), path);
}

function appliesTo(rule: Rule, principal: Principal): boolean {
  if (rule.who.kind === "user") return rule.who.name === "*" || rule.who.name === principal.name;
  return principal.groups.includes(rule.who.name);
}

function covers(pattern: ResourcePattern, resource: Resource): boolean {
  if (pattern.type === "*") return true;
  if (pattern.type !== resource.type) return false;
  if (resource.type === "cluster") return true;
  if ("any" in resource) return pattern.prefix && pattern.name === "";
  return pattern.prefix ? resource.name.startsWith(pattern.name) : resource.name === pattern.name;
}

export const describeResource = (r: Resource) =>
  r.type === "cluster" ? "cluster" : "any" in r ? `${r.type}:*` : `${r.type}:${r.name}`;

export interface Authorizer {
  allowed(principal: Principal, operation: Operation, resource: Resource): boolean;
  /** Throws 403 / 40301 naming the first resource the principal may not use. */
  check(principal: Principal, operation: Operation, resources: Resource[]): void;
}

export function createAuthorizer(rules: Rule[]): Authorizer {
  const allowed = (principal: Principal, operation: Operation, resource: Resource) =>
    rules.some(
      (rule) =>
        rule.operations.has(operation) && appliesTo(rule, principal) && rule.resources.some((p) => covers(p, resource)),
    );
  return {
    allowed,
    check(principal, operation, resources) {
      for (const resource of resources) {
        if (!allowed(principal, operation, resource)) {
          throw forbidden(
            `Authorization error: ${principal.name} may not ${operation} on ${describeResource(resource)}.`,
          );
        }
      }
    },
  };
}

/**
 * A consumer instance belongs to the principal that created it. Instances created while
 * authentication was off (no creator) stay open to whoever may consume from their group.
 */
export function checkInstanceOwner(creator: string | null | undefined, principal: Principal | null): void {
  if (!creator) return;
  if (principal?.name !== creator) {
    throw forbidden("Authorization error: this consumer instance belongs to another principal.");
  }
}
