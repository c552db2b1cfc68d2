/**
 * .proto text <-> FileDescriptorProto. Confluent's clients (Java, Python, JavaScript) register and
 * fetch Protobuf schemas as base64 FileDescriptorProtos (`?format=serialized`), while people and
 * REST Proxy send .proto text, so the registry must speak both. protobufjs parses the text; the
 * descriptor is built here with fully qualified type names and protoc's `<Field>Entry` map types,
 * which protobufjs's own toDescriptor does not give.
 */
import protobuf from "protobufjs";
import descriptorModule from "protobufjs/ext/descriptor/index.js";

type Message = Record<string, unknown>;
interface DescriptorCodec {
  encode(message: Message): { finish(): Uint8Array };
  decode(bytes: Uint8Array): protobuf.Message;
  toObject(message: protobuf.Message, options?: protobuf.IConversionOptions): Message;
}
const descriptors = descriptorModule as unknown as { FileDescriptorProto: DescriptorCodec };

export const FileDescriptorProto = descriptors.FileDescriptorProto;

/** Well-known types Confluent's clients never register as references: protobufjs ships them. */
export function isWellKnown(file: string): boolean {
  return file.startsWith("google/protobuf/");
}

export function addWellKnown(root: protobuf.Root, file: string): boolean {
  const json = protobuf.common.get(file) as { nested?: Record<string, protobuf.AnyNestedObject> } | null;
  if (!json?.nested) return false;
  root.addJSON(json.nested);
  return true;
}

/**
 * The FileDescriptorProto of a well-known file (google/protobuf/timestamp.proto...), made from
 * protobufjs's bundled definitions, or null when protobufjs does not ship it.
 */
export function wellKnownDescriptor(file: string): Message | null {
  const root = new protobuf.Root();
  if (!addWellKnown(root, file)) return null;
  root.resolveAll();
  const parsed: ParsedFile = { name: file, package: "google.protobuf", imports: [], syntax: "proto3" };
  const scope = root.lookup("google.protobuf");
  if (scope instanceof protobuf.Namespace) for (const nested of scope.nestedArray) nested.filename = file;
  return FileDescriptorProto.toObject(FileDescriptorProto.decode(fileDescriptor(root, parsed)), {
    longs: Number,
    arrays: true,
  });
}

export interface ParsedFile {
  name: string;
  package: string;
  imports: string[];
  syntax: "proto2" | "proto3";
}

/** Parses .proto text into `root`, marking its types with `name` so they can be found again. */
export function parseProtoText(root: protobuf.Root, name: string, text: string): ParsedFile {
  const parse = protobuf.parse as typeof protobuf.parse & { filename: string | null };
  parse.filename = name;
  try {
    const result = protobuf.parse(text, root, { keepCase: true });
    return {
      name,
      package: result.package ?? "",
      imports: [...(result.imports ?? []), ...(result.weakImports ?? [])],
      // protobufjs keeps the syntax on the types it made, not on the result: read it from the text.
      syntax: /^\s*syntax\s*=\s*["']proto3["']/m.test(text) ? "proto3" : "proto2",
    };
  } finally {
    parse.filename = null;
  }
}

const SCALARS: Record<string, number> = {
  double: 1,
  float: 2,
  int64: 3,
  uint64: 4,
  int32: 5,
  fixed64: 6,
  fixed32: 7,
  bool: 8,
  string: 9,
  bytes: 12,
  uint32: 13,
  sfixed32: 15,
  sfixed64: 16,
  sint32: 17,
  sint64: 18,
};

const qualified = (object: protobuf.ReflectionObject) => object.fullName; // ".pkg.Name"

function entryName(field: string): string {
  const camel = field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return `${camel.charAt(0).toUpperCase()}${camel.slice(1)}Entry`;
}

function valueType(field: protobuf.Field, type: string): { type: number; typeName?: string } {
  const scalar = SCALARS[type];
  if (scalar !== undefined) return { type: scalar };
  const resolved = field.resolvedType;
  if (!resolved) throw new Error(`field ${field.name}: type ${type} is not resolved`);
  return { type: resolved instanceof protobuf.Enum ? 14 : field.delimited ? 10 : 11, typeName: qualified(resolved) };
}

function enumDescriptor(value: protobuf.Enum): Message {
  return { name: value.name, value: Object.entries(value.values).map(([name, number]) => ({ name, number })) };
}

function messageDescriptor(type: protobuf.Type, syntax: ParsedFile["syntax"]): Message {
  const nestedType: Message[] = [];
  const field: Message[] = [];
  const oneofs = type.oneofsArray;
  for (const f of type.fieldsArray) {
    f.resolve();
    const entry: Message = { name: f.name, number: f.id };
    if (f instanceof protobuf.MapField) {
      const name = entryName(f.name);
      nestedType.push({
        name,
        field: [
          { name: "key", number: 1, label: 1, ...valueType(f, f.keyType) },
          { name: "value", number: 2, label: 1, ...valueType(f, f.type) },
        ],
        options: { mapEntry: true },
      });
      Object.assign(entry, { label: 3, type: 11, typeName: `${qualified(type)}.${name}` });
    } else {
      const label = f.repeated ? 3 : f.required && syntax === "proto2" ? 2 : 1;
      Object.assign(entry, { label, ...valueType(f, f.type) });
      if (f.partOf) entry.oneofIndex = oneofs.indexOf(f.partOf);
      if (f.options?.proto3_optional) entry.proto3Optional = true;
      if (f.options?.default !== undefined) entry.defaultValue = String(f.options.default);
      if (syntax === "proto3" && f.repeated && f.options?.packed === false) entry.options = { packed: false };
    }
    field.push(entry);
  }
  const enumType: Message[] = [];
  for (const nested of type.nestedArray) {
    if (nested instanceof protobuf.Type) nestedType.push(messageDescriptor(nested, syntax));
    else if (nested instanceof protobuf.Enum) enumType.push(enumDescriptor(nested));
  }
  return { name: type.name, field, nestedType, enumType, oneofDecl: oneofs.map((o) => ({ name: o.name })) };
}

/** The FileDescriptorProto of one parsed file (its types must be resolved in `root`). */
export function fileDescriptor(root: protobuf.Root, file: ParsedFile): Uint8Array {
  const scope = file.package ? root.lookup(file.package) : root;
  const messageType: Message[] = [];
  const enumType: Message[] = [];
  if (scope instanceof protobuf.Namespace) {
    for (const nested of scope.nestedArray) {
      if (nested.filename !== file.name) continue;
      if (nested instanceof protobuf.Type) messageType.push(messageDescriptor(nested, file.syntax));
      else if (nested instanceof protobuf.Enum) enumType.push(enumDescriptor(nested));
    }
  }
  const proto: Message = { name: file.name, dependency: file.imports, messageType, enumType, syntax: file.syntax };
  if (file.package) proto.package = file.package;
  return FileDescriptorProto.encode(proto).finish();
}

/** A base64 FileDescriptorProto, or null when `text` is not one (then it is .proto text). */
export function decodeDescriptor(text: string): Message | null {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) return null;
  try {
    const message = FileDescriptorProto.decode(Buffer.from(trimmed, "base64"));
    return FileDescriptorProto.toObject(message, { longs: Number, enums: Number, defaults: false, arrays: true });
  } catch {
    return null;
  }
}
