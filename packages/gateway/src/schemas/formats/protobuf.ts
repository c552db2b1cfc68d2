/**
 * Protobuf through protobufjs. REST Proxy reads a record with protobuf's JsonFormat parser into
 * the schema's first message (message indexes [0]) and prints consumed records with JsonFormat's
 * printer, default values included: lowerCamelCase JSON names (the .proto names are accepted on
 * input too), 64-bit integers as strings, enums by name, bytes as base64.
 *
 * protobufjs's fromObject is more forgiving than JsonFormat (it takes unknown fields and turns
 * "abc" into 0 for an int32), so each value is first checked against its field here, and renamed
 * from its JSON name to the field's name; protobufjs then does the encoding. Timestamp, Duration
 * and the wrappers take JsonFormat's special JSON forms (protobuf-well-known.ts).
 */
import protobuf from "protobufjs";
import { type Codec, ConversionError, SchemaParseError } from "./codec.ts";
import { hasJsonForm, wellKnownFromJson, wellKnownToJson } from "./protobuf-well-known.ts";

export function compileProtobuf(text: string, references: Array<{ name: string; schema: string }> = []): Codec {
  let first: protobuf.Type;
  let messages: protobuf.Type[];
  try {
    const root = new protobuf.Root();
    const parsed = protobuf.parse(text, root, { keepCase: true });
    const home = parsed.package ? root.lookup(parsed.package) : root;
    // The file's own top-level messages, before references add theirs to the same namespace.
    messages = ((home as protobuf.Namespace | null)?.nestedArray ?? []).filter(
      (n): n is protobuf.Type => n instanceof protobuf.Type,
    );
    const imports = [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])];
    for (const reference of references) {
      const sub = protobuf.parse(reference.schema, root, { keepCase: true });
      imports.push(...(sub.imports ?? []));
    }
    for (const name of imports) {
      const common = protobuf.common.get(name) as { nested?: Record<string, unknown> } | null;
      if (common?.nested && !references.some((r) => r.name === name)) root.addJSON(common.nested as never);
    }
    root.resolveAll();
    if (messages.length === 0) throw new Error("the schema defines no message");
    first = messages[0] as protobuf.Type;
  } catch (error) {
    throw new SchemaParseError((error as Error).message);
  }
  const firstName = first.fullName.replace(/^\./, "");
  return {
    recordName: firstName,
    encode(data) {
      if (data === null || typeof data !== "object" || Array.isArray(data)) {
        throw new ConversionError(`Expect message object but got: ${JSON.stringify(data)}`);
      }
      const object = fromJson(first, data as Record<string, unknown>, firstName);
      // Message indexes [0] travel as the single byte 0 (Confluent's short form), written ahead
      // of the message into the same buffer.
      return first.encode(first.fromObject(object), protobuf.Writer.create().uint32(0)).finish();
    },
    decode(payload) {
      try {
        const { indexes, offset } = readIndexes(payload);
        const type = typeAt(messages, indexes);
        const message = type.decode(payload.subarray(offset));
        return toJson(type, type.toObject(message, printOptions));
      } catch (error) {
        throw new ConversionError(`Failed to convert Protobuf to JSON: ${(error as Error).message}`);
      }
    },
  };
}

const printOptions: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  arrays: true,
  objects: true,
  json: true,
};

function readVarint(bytes: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    if (i >= bytes.length) throw new Error("truncated message indexes");
    const b = bytes[i++] as number;
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new Error("message index too long");
  }
  // Zigzag, as Confluent writes them.
  return { value: (value >>> 1) ^ -(value & 1), next: i };
}

function readIndexes(bytes: Buffer): { indexes: number[]; offset: number } {
  const count = readVarint(bytes, 0);
  if (count.value === 0) return { indexes: [0], offset: count.next };
  const indexes: number[] = [];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    const index = readVarint(bytes, at);
    indexes.push(index.value);
    at = index.next;
  }
  return { indexes, offset: at };
}

function typeAt(messages: protobuf.Type[], indexes: number[]): protobuf.Type {
  let level: protobuf.Type[] = messages;
  let type: protobuf.Type | undefined;
  for (const index of indexes) {
    type = level[index];
    if (!type) throw new Error(`no message at index ${indexes.join(",")}`);
    level = type.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  }
  if (!type) throw new Error("empty message indexes");
  return type;
}

const fieldByJsonName = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function fieldsOf(type: protobuf.Type): Map<string, protobuf.Field> {
  let byName = fieldByJsonName.get(type);
  if (!byName) {
    byName = new Map();
    for (const field of type.fieldsArray) {
      byName.set(field.name, field);
      byName.set(field.jsonName, field);
    }
    fieldByJsonName.set(type, byName);
  }
  return byName;
}

const int32Types = new Set(["int32", "sint32", "sfixed32"]);
const uint32Types = new Set(["uint32", "fixed32"]);
const base64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** JsonFormat's checks of one JSON value against its field, as a protobufjs plain object. */
function fromJson(type: protobuf.Type, input: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = fieldsOf(type);
  for (const [key, value] of Object.entries(input)) {
    const field = fields.get(key);
    if (!field) throw new ConversionError(`Cannot find field: ${key} in message ${path}`);
    // JsonFormat reads null as the field's default.
    if (value === null) continue;
    const where = `${path}.${field.name}`;
    if (field.map) {
      if (typeof value !== "object" || Array.isArray(value))
        throw new ConversionError(`Expect a map object for ${where}`);
      const map: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        map[k] = fieldValue(field, v, `${where}[${k}]`);
      out[field.name] = map;
    } else if (field.repeated) {
      if (!Array.isArray(value))
        throw new ConversionError(`Expect an array for ${where} but got: ${JSON.stringify(value)}`);
      out[field.name] = value.map((v, i) => fieldValue(field, v, `${where}[${i}]`));
    } else {
      out[field.name] = fieldValue(field, value, where);
    }
  }
  return out;
}

function fieldValue(field: protobuf.Field, value: unknown, where: string): unknown {
  const bad = (expected: string) =>
    new ConversionError(`Expect ${expected} for ${where} but got: ${JSON.stringify(value)}`);
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type && hasJsonForm(resolved.fullName)) {
    const valueField = resolved.fields.value as protobuf.Field;
    return wellKnownFromJson(resolved.fullName, value, where, (v) => fieldValue(valueField, v, `${where}.value`));
  }
  if (resolved instanceof protobuf.Type) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("a message object");
    return fromJson(resolved, value as Record<string, unknown>, resolved.fullName.replace(/^\./, ""));
  }
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === "string" && value in resolved.values) return value;
    if (typeof value === "number" && Number.isInteger(value)) return value;
    throw bad(`a value of enum ${resolved.name}`);
  }
  const t = field.type;
  switch (t) {
    case "string":
      if (typeof value !== "string") throw bad("a string");
      return value;
    case "bool":
      if (typeof value !== "boolean") throw bad("a boolean");
      return value;
    case "bytes":
      if (typeof value !== "string" || !base64.test(value)) throw bad("a base64 string");
      return Buffer.from(value, "base64");
    case "int64":
    case "sint64":
    case "sfixed64":
    case "uint64":
    case "fixed64": {
      if (typeof value === "string" ? !/^-?\d+$/.test(value) : !Number.isInteger(value)) throw bad(t);
      if ((t === "uint64" || t === "fixed64") && String(value).startsWith("-")) throw bad(t);
      return typeof value === "string" ? value : String(value);
    }
    case "double":
    case "float": {
      if (value === "NaN" || value === "Infinity" || value === "-Infinity") return Number(value);
      const n = numberOf(value);
      if (!Number.isFinite(n)) throw bad(t);
      return n;
    }
    default: {
      if (!int32Types.has(t) && !uint32Types.has(t)) throw bad(t);
      const n = numberOf(value);
      const signed = int32Types.has(t);
      if (!Number.isInteger(n) || n < (signed ? -(2 ** 31) : 0) || n > (signed ? 2 ** 31 - 1 : 2 ** 32 - 1)) {
        throw bad(t);
      }
      return n;
    }
  }
}

/** A JSON number, or a string holding one (JsonFormat takes both for numeric fields). */
const numberOf = (value: unknown): number =>
  typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;

/** protobufjs's toObject (field names) into JsonFormat's printing (JSON names, no unset messages). */
function toJson(type: protobuf.Type, object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const value = object[field.name];
    if (value === undefined || value === null) continue;
    const nested = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;
    if (nested && hasJsonForm(nested.fullName)) {
      const print = (v: unknown) => wellKnownToJson(nested.fullName, v as Record<string, unknown>);
      out[field.jsonName] = field.map
        ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, print(v)]))
        : field.repeated
          ? (value as unknown[]).map(print)
          : print(value);
    } else if (nested && field.map) {
      const map: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) map[k] = toJson(nested, v as never);
      out[field.jsonName] = map;
    } else if (nested && field.repeated) {
      out[field.jsonName] = (value as Array<Record<string, unknown>>).map((v) => toJson(nested, v));
    } else if (nested) {
      out[field.jsonName] = toJson(nested, value as Record<string, unknown>);
    } else {
      out[field.jsonName] = value;
    }
  }
  return out;
}
