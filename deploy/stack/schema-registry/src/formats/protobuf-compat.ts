/**
 * The core of Confluent's Protobuf compatibility rules, as "can a reader schema read what a writer
 * schema wrote". Covered (see the package README): package changed, a top-level message removed,
 * and for every message both know (recursively through message fields): a field number whose kind
 * (scalar, message, enum) changed, a scalar type changed outside its wire-compatible group, a
 * message or enum field naming another type, a field moved into or out of a oneof, a required
 * (proto2) field the writer does not have. Field names, added fields and removed optional fields
 * are compatible, as in Protobuf itself.
 */
import protobuf from "protobufjs";

interface Side {
  root: protobuf.Root;
  messages: string[];
  packageName: string;
}

/** Scalar types that share a wire encoding and parse into each other (Confluent's list). */
const GROUPS = [
  ["int32", "uint32", "int64", "uint64", "bool"],
  ["sint32", "sint64"],
  ["fixed32", "sfixed32"],
  ["fixed64", "sfixed64"],
  ["string", "bytes"],
];

function sameGroup(a: string, b: string): boolean {
  return a === b || GROUPS.some((g) => g.includes(a) && g.includes(b));
}

function problem(problems: string[], type: string, path: string): void {
  problems.push(`{errorType:"${type}", description:"at path '${path}'"}`);
}

function kindOf(field: protobuf.Field): "scalar" | "message" | "enum" | "map" {
  if (field instanceof protobuf.MapField) return "map";
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return "message";
  if (resolved instanceof protobuf.Enum) return "enum";
  return "scalar";
}

export function protobufProblems(reader: Side, writer: Side): string[] {
  const problems: string[] = [];
  if (reader.packageName !== writer.packageName) problem(problems, "PACKAGE_CHANGED", "#/");
  const seen = new Set<string>();
  for (const name of writer.messages) {
    const readerType = lookupType(reader.root, name);
    const writerType = lookupType(writer.root, name);
    if (!writerType) continue;
    if (!readerType) {
      problem(problems, "MESSAGE_REMOVED", `#/${name.slice(1)}`);
      continue;
    }
    compareMessages(readerType, writerType, `#/${name.slice(1)}`, problems, seen);
  }
  return problems;
}

function lookupType(root: protobuf.Root, name: string): protobuf.Type | null {
  const found = root.lookup(name);
  return found instanceof protobuf.Type ? found : null;
}

function compareMessages(
  reader: protobuf.Type,
  writer: protobuf.Type,
  path: string,
  problems: string[],
  seen: Set<string>,
): void {
  const key = `${reader.fullName}|${writer.fullName}`;
  if (seen.has(key)) return;
  seen.add(key);
  const writerFields = writer.fieldsById;
  for (const readerField of reader.fieldsArray) {
    readerField.resolve();
    const at = `${path}/${readerField.id}`;
    const writerField = writerFields[readerField.id];
    if (!writerField) {
      if (readerField.required) problem(problems, "REQUIRED_FIELD_ADDED", at);
      continue;
    }
    writerField.resolve();
    const readerKind = kindOf(readerField);
    const writerKind = kindOf(writerField);
    if (readerKind !== writerKind) {
      problem(problems, "FIELD_KIND_CHANGED", at);
      continue;
    }
    if (Boolean(readerField.partOf) !== Boolean(writerField.partOf) && !readerField.options?.proto3_optional) {
      problem(problems, readerField.partOf ? "FIELD_MOVED_TO_EXISTING_ONEOF" : "FIELD_REMOVED_FROM_ONEOF", at);
    }
    if (readerKind === "map") {
      const r = readerField as unknown as protobuf.MapField;
      const w = writerField as unknown as protobuf.MapField;
      if (r.keyType !== w.keyType) problem(problems, "FIELD_SCALAR_KIND_CHANGED", `${at}/key`);
    }
    if (readerKind === "scalar") {
      if (!sameGroup(readerField.type, writerField.type)) problem(problems, "FIELD_SCALAR_KIND_CHANGED", at);
      continue;
    }
    const readerType = readerField.resolvedType;
    const writerType = writerField.resolvedType;
    if (readerKind === "map" && !readerType && !writerType) {
      if (!sameGroup(readerField.type, writerField.type)) problem(problems, "FIELD_SCALAR_KIND_CHANGED", at);
      continue;
    }
    if (!readerType || !writerType || readerType.name !== writerType.name) {
      problem(problems, "FIELD_NAMED_TYPE_CHANGED", at);
      continue;
    }
    if (readerType instanceof protobuf.Type && writerType instanceof protobuf.Type) {
      compareMessages(readerType, writerType, at, problems, seen);
    }
  }
}
