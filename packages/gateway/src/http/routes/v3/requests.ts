/**
 * v3 admin request bodies and ACL query filters, read the way REST Proxy's Jackson entities read
 * them: unknown fields 422, values of the wrong type or missing required fields 400, an empty body
 * 422 / 42206 in the route's own words.
 */
import type { Context } from "hono";
import { badRequest, invalidPayload, unrecognizedField } from "../../../errors.ts";
import {
  type AclBinding,
  type AclFilter,
  type AlterConfigCommand,
  aclOperations,
  aclPatternTypes,
  aclPermissions,
  aclResourceTypes,
  badRequestParam,
  isValidTopicName,
  type NewTopic,
  notFound,
} from "../../../kafka/admin/index.ts";
import { isObject } from "../../json.ts";
import { wrongType } from "./links.ts";

type Json = Record<string, unknown>;

function object(body: unknown, emptyMessage: string, fields: readonly string[]): Json {
  if (body === undefined || body === null) throw invalidPayload(emptyMessage);
  if (!isObject(body)) throw badRequest(`Cannot deserialize the request body from ${JSON.stringify(body)}.`);
  for (const field of Object.keys(body)) {
    if (!fields.includes(field)) throw unrecognizedField(field);
  }
  return body;
}

function int(body: Json, field: string, min: number, max: number): number | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw wrongType(field, "java.lang.Integer", value);
  }
  return value;
}

function str(body: Json, field: string): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw wrongType(field, "java.lang.String", value);
  return value;
}

function bool(body: Json, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw wrongType(field, "java.lang.Boolean", value);
  return value;
}

function required<T>(value: T | null, field: string): T {
  if (value === null) throw badRequest(`Missing required field: ${field}`);
  return value;
}

function list(body: Json, field: string): unknown[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw wrongType(field, "java.util.List", value);
  return value;
}

const INT_MAX = 2 ** 31 - 1;
const SHORT_MAX = 2 ** 15 - 1;

export function readCreateTopic(body: unknown): NewTopic {
  const fields = [
    "topic_name",
    "partitions_count",
    "replication_factor",
    "replicas_assignments",
    "configs",
    "validate_only",
  ] as const;
  const request = object(body, "Request body is empty. Data is required.", fields);
  const name = required(str(request, "topic_name"), "topic_name");
  const partitions = int(request, "partitions_count", -INT_MAX, INT_MAX);
  const replicationFactor = int(request, "replication_factor", -SHORT_MAX, SHORT_MAX);
  const assignments = new Map<number, number[]>();
  const rawAssignments = request.replicas_assignments;
  if (rawAssignments !== undefined && rawAssignments !== null) {
    if (!isObject(rawAssignments)) throw wrongType("replicas_assignments", "java.util.Map", rawAssignments);
    for (const [key, brokers] of Object.entries(rawAssignments)) {
      if (!/^-?\d+$/.test(key)) throw wrongType("replicas_assignments", "java.lang.Integer", key);
      if (!Array.isArray(brokers) || brokers.some((b) => typeof b !== "number" || !Number.isInteger(b))) {
        throw wrongType(`replicas_assignments.${key}`, "java.util.List<java.lang.Integer>", brokers);
      }
      assignments.set(Number(key), brokers as number[]);
    }
  }
  const configs = list(request, "configs").map((entry, i) => {
    const config = object(entry, "", ["name", "value"]);
    return { name: required(str(config, "name"), `configs[${i}].name`), value: str(config, "value") };
  });
  if (!isValidTopicName(name)) throw invalidPayload("Invalid topic name.");
  return { name, partitions, replicationFactor, assignments, configs, validateOnly: bool(request, "validate_only") };
}

export function readPartitionsCount(body: unknown): number {
  const request = object(body, "Request body is empty. Partitions_count is required.", ["partitions_count"]);
  return required(int(request, "partitions_count", -INT_MAX, INT_MAX), "partitions_count");
}

/** PUT .../configs/{name}: `{"value": ...}`; a null value is passed on (the broker decides). */
export function readConfigValue(body: unknown): string | null {
  return str(object(body, "Null input provided. Data is required.", ["value"]), "value");
}

export function readAlterBatch(body: unknown): { commands: AlterConfigCommand[]; validateOnly: boolean } {
  const request = object(body, "Null input provided. Data is required.", ["data", "validate_only"]);
  if (request.data === undefined || request.data === null) throw badRequest("Missing required field: data");
  const commands = list(request, "data").map((entry, i): AlterConfigCommand => {
    const item = object(entry, "", ["name", "value", "operation"]);
    const operation = (str(item, "operation") ?? "SET").toUpperCase();
    if (operation !== "SET" && operation !== "DELETE") {
      throw badRequest(`Cannot deserialize value of type \`AlterOperation\` from String "${item.operation}".`);
    }
    return { name: required(str(item, "name"), `data[${i}].name`), operation, value: str(item, "value") };
  });
  return { commands, validateOnly: bool(request, "validate_only") };
}

const aclFields = ["resource_type", "resource_name", "pattern_type", "principal", "host", "operation", "permission"];

function enumValue<T extends string>(names: readonly T[], value: unknown, field: string): T {
  if (typeof value !== "string") throw badRequest(`Missing required field: ${field}`);
  const found = names.find((n) => n === value.toUpperCase());
  if (!found) throw badRequest(`Cannot deserialize value of type \`${field}\` from String "${value}".`);
  return found;
}

function readAcl(entry: unknown): AclBinding {
  const acl = object(entry, "Null input provided. Data is required.", aclFields);
  const binding: AclBinding = {
    resourceType: enumValue(aclResourceTypes, acl.resource_type, "resource_type"),
    resourceName: required(str(acl, "resource_name"), "resource_name"),
    patternType: enumValue(aclPatternTypes, acl.pattern_type, "pattern_type"),
    principal: required(str(acl, "principal"), "principal"),
    host: required(str(acl, "host"), "host"),
    operation: enumValue(aclOperations, acl.operation, "operation"),
    permission: enumValue(aclPermissions, acl.permission, "permission"),
  };
  // REST Proxy's AclManager.validateAclCreateParameters, in its order and words.
  if (binding.resourceType === "ANY" || binding.resourceType === "UNKNOWN") {
    throw badRequestParam("resource_type cannot be ANY");
  }
  if (["ANY", "MATCH", "UNKNOWN"].includes(binding.patternType)) {
    throw badRequestParam(`pattern_type cannot be ${binding.patternType}`);
  }
  if (binding.operation === "ANY" || binding.operation === "UNKNOWN") throw badRequestParam("operation cannot be ANY");
  if (binding.permission === "ANY" || binding.permission === "UNKNOWN") {
    throw badRequestParam("permission cannot be ANY");
  }
  return binding;
}

export const readCreateAcl = (body: unknown): AclBinding => readAcl(body);

export function readAclBatch(body: unknown): AclBinding[] {
  const request = object(body, "Null input provided. Data is required.", ["data"]);
  if (request.data === undefined || request.data === null) {
    throw invalidPayload("Null input provided. Data is required.");
  }
  return list(request, "data").map(readAcl);
}

/**
 * The ACL filter in the query string. Enum values are case-insensitive; one that names no value is
 * 404, a JAX-RS quirk REST Proxy's own tests pin down. Search defaults to ANY; delete requires
 * every enum (REST Proxy refuses an unspecified one so that a bare DELETE cannot wipe all ACLs).
 */
export function readAclQuery(c: Context, mode: "search" | "delete"): AclFilter {
  const fallback = mode === "search" ? "ANY" : "UNKNOWN";
  const pick = <T extends string>(names: readonly T[], field: string): T => {
    const raw = c.req.query(field);
    if (raw === undefined || raw === "") return fallback as T;
    const found = names.find((n) => n === raw.toUpperCase());
    if (!found) throw notFound();
    return found;
  };
  const text = (field: string) => {
    const raw = c.req.query(field);
    return raw === undefined || raw === "" ? null : raw;
  };
  const filter = {
    resourceType: pick(aclResourceTypes, "resource_type"),
    resourceName: text("resource_name"),
    patternType: pick(aclPatternTypes, "pattern_type"),
    principal: text("principal"),
    host: text("host"),
    operation: pick(aclOperations, "operation"),
    permission: pick(aclPermissions, "permission"),
  };
  for (const [field, value] of [
    ["resource_type", filter.resourceType],
    ["pattern_type", filter.patternType],
    ["operation", filter.operation],
    ["permission", filter.permission],
  ]) {
    if (value !== "UNKNOWN") continue;
    throw badRequestParam(
      mode === "search" ? `${field} cannot be UNKNOWN` : `${field} cannot be unspecified or UNKNOWN`,
    );
  }
  return filter;
}
