/**
 * What a request touches, for authorization: one operation on one or more resources, read from
 * the method and path alone (plus, for a few routes, the topics named in the body).
 *
 * Anything not recognised is treated as cluster-wide admin (read for GET, write otherwise), so a
 * route added later is closed to ordinary principals until it is classified here. A GET that asks
 * for an event stream, or reads a topic path that is not metadata, counts as consuming that topic.
 */
import type { Operation, Resource } from "./authorization.ts";

export type Scope =
  | { kind: "open" }
  | { kind: "authenticated" }
  | {
      kind: "access";
      operation: Operation;
      resources: Resource[];
      /** Topics in the body are also consumed (v2 instance routes) or named (v3 topic creation). */
      body?: "consumer-topics" | "created-topic";
    };

const cluster: Resource = { type: "cluster" };
const topic = (name: string): Resource => ({ type: "topic", name });
const group = (name: string): Resource => ({ type: "group", name });
const access = (operation: Operation, resources: Resource[], body?: "consumer-topics" | "created-topic"): Scope =>
  body ? { kind: "access", operation, resources, body } : { kind: "access", operation, resources };

function segmentsOf(path: string): string[] {
  const segments = path.split("/").slice(1);
  if (segments.length > 0 && segments[segments.length - 1] === "") segments.pop();
  return segments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
}

/** Metadata tails below a topic (v2 and v3): reading these is admin, not consuming. */
function isTopicMetadata(tail: string[]): boolean {
  if (tail.length === 0) return true;
  const [first, , third] = tail;
  if (first === "configs" || first?.startsWith("configs:")) return true;
  if (first !== "partitions") return false;
  return tail.length <= 2 || (tail.length <= 4 && (third === "reassignment" || third === "replicas"));
}

export function scopeOf(method: string, path: string, options: { metricsOpen: boolean; eventStream: boolean }): Scope {
  const s = segmentsOf(path);
  const read = method === "GET" || method === "HEAD";
  const admin = (resources: Resource[]) => access(read ? "read-admin" : "write-admin", resources);
  const [first] = s;

  if (s.length === 0) return read ? { kind: "authenticated" } : admin([cluster]);
  if (s.length === 1 && (first === "healthz" || first === "readyz")) return { kind: "open" };
  if (s.length === 1 && first === "metrics") return options.metricsOpen ? { kind: "open" } : { kind: "authenticated" };

  if (first === "topics") {
    const t = s[1];
    if (t === undefined) return admin([cluster]);
    const tail = s.slice(2);
    if (method === "POST" && (tail.length === 0 || (tail.length === 2 && tail[0] === "partitions"))) {
      return access("produce", [topic(t)]);
    }
    if (read && (options.eventStream || !isTopicMetadata(tail))) return access("consume", [topic(t)]);
    return admin([topic(t)]);
  }
  if (first === "consumers" && s[1] !== undefined) {
    const g = s[1];
    if (s.length >= 4 && s[2] === "instances") return access("consume", [group(g)], "consumer-topics");
    return access("consume", [group(g)]);
  }
  if (first === "v3" && s[1] === "clusters") return v3Scope(s.slice(2), method, read, options.eventStream);
  return admin([cluster]);
}

/** `rest` starts after /v3/clusters. */
function v3Scope(rest: string[], method: string, read: boolean, eventStream: boolean): Scope {
  const op: Operation = read ? "read-admin" : "write-admin";
  const [, kind, name, ...tail] = rest;
  if (kind === "topics") {
    if (name === undefined || name === "-") {
      return method === "POST" && name === undefined ? access(op, [cluster], "created-topic") : access(op, [cluster]);
    }
    if (method === "POST" && tail.length === 1 && (tail[0] === "records" || tail[0] === "records:batch")) {
      return access("produce", [topic(name)]);
    }
    if (read && (eventStream || !isTopicMetadata(tail))) return access("consume", [topic(name)]);
    return access(op, [topic(name)]);
  }
  if (kind === "consumer-groups" && name !== undefined) return access(op, [group(name)]);
  return access(op, [cluster]);
}

/** Every topic a v2 consumer request body names; `any` when it subscribes to a pattern. */
export function consumerBodyTopics(body: unknown): { topics: string[]; any: boolean } {
  const topics = new Set<string>();
  let any = false;
  if (typeof body !== "object" || body === null) return { topics: [], any };
  const b = body as Record<string, unknown>;
  if (b.topic_pattern !== undefined && b.topic_pattern !== null) any = true;
  if (Array.isArray(b.topics)) for (const t of b.topics) if (typeof t === "string") topics.add(t);
  for (const field of ["partitions", "offsets", "timestamps"]) {
    const list = b[field];
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const t = (entry as { topic?: unknown } | null)?.topic;
      if (typeof t === "string") topics.add(t);
    }
  }
  return { topics: [...topics], any };
}
