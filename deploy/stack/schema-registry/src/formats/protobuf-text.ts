/**
 * FileDescriptorProto -> .proto text. Confluent's registry answers a Protobuf schema as text unless
 * `?format=serialized` is asked, whatever form it was registered in; clients that registered a
 * base64 descriptor (Confluent's serializers) are then readable by text parsers such as
 * protobufjs. Covers messages (nested), enums, fields with labels, maps, oneofs, proto3 optional
 * and proto2 defaults; file and field options and services are left out.
 */

type Message = Record<string, unknown>;

const SCALAR_NAMES: Record<number, string> = {
  1: "double",
  2: "float",
  3: "int64",
  4: "uint64",
  5: "int32",
  6: "fixed64",
  7: "fixed32",
  8: "bool",
  9: "string",
  12: "bytes",
  13: "uint32",
  15: "sfixed32",
  16: "sfixed64",
  17: "sint32",
  18: "sint64",
};

const list = (value: unknown): Message[] => (Array.isArray(value) ? (value as Message[]) : []);

function typeName(field: Message): string {
  const scalar = SCALAR_NAMES[field.type as number];
  return scalar ?? String(field.typeName ?? "bytes");
}

function mapEntry(message: Message, field: Message): Message | undefined {
  if (field.label !== 3 || field.type !== 11 || typeof field.typeName !== "string") return undefined;
  const short = field.typeName.slice(field.typeName.lastIndexOf(".") + 1);
  return list(message.nestedType).find(
    (n) => n.name === short && (n.options as { mapEntry?: boolean } | undefined)?.mapEntry === true,
  );
}

function fieldLine(message: Message, field: Message, syntax: string, inOneof: boolean): string {
  const entry = mapEntry(message, field);
  if (entry) {
    const [key, value] = list(entry.field);
    return `map<${key ? typeName(key) : "string"}, ${value ? typeName(value) : "bytes"}> ${field.name} = ${field.number};`;
  }
  let label = "";
  if (!inOneof) {
    if (field.label === 3) label = "repeated ";
    else if (field.label === 2) label = "required ";
    else if (syntax === "proto2" || field.proto3Optional) label = "optional ";
  }
  const defaultValue = field.defaultValue !== undefined && field.defaultValue !== "" ? field.defaultValue : undefined;
  const quoted = field.type === 9 || field.type === 12 ? JSON.stringify(defaultValue) : defaultValue;
  const options = defaultValue !== undefined ? ` [default = ${quoted}]` : "";
  return `${label}${typeName(field)} ${field.name} = ${field.number}${options};`;
}

function enumLines(value: Message, indent: string): string[] {
  return [
    `${indent}enum ${value.name} {`,
    ...list(value.value).map((v) => `${indent}  ${v.name} = ${v.number ?? 0};`),
    `${indent}}`,
  ];
}

function messageLines(message: Message, syntax: string, indent: string): string[] {
  const inner = `${indent}  `;
  const lines = [`${indent}message ${message.name} {`];
  const oneofs = list(message.oneofDecl);
  const fields = list(message.field);
  // Synthetic oneofs (proto3 optional) are not written: the field's `optional` stands for them.
  const real = new Set(
    oneofs.map((_, i) => i).filter((i) => !fields.some((f) => f.oneofIndex === i && f.proto3Optional)),
  );
  const written = new Set<number>();
  for (const field of fields) {
    const index = field.oneofIndex as number | undefined;
    if (index !== undefined && real.has(index)) {
      if (written.has(index)) continue;
      written.add(index);
      lines.push(`${inner}oneof ${oneofs[index]?.name} {`);
      for (const member of fields.filter((f) => f.oneofIndex === index)) {
        lines.push(`${inner}  ${fieldLine(message, member, syntax, true)}`);
      }
      lines.push(`${inner}}`);
      continue;
    }
    lines.push(`${inner}${fieldLine(message, field, syntax, false)}`);
  }
  for (const nested of list(message.nestedType)) {
    if ((nested.options as { mapEntry?: boolean } | undefined)?.mapEntry) continue;
    lines.push(...messageLines(nested, syntax, inner));
  }
  for (const value of list(message.enumType)) lines.push(...enumLines(value, inner));
  lines.push(`${indent}}`);
  return lines;
}

export function descriptorToProtoText(file: Message): string {
  const syntax = file.syntax === "proto3" ? "proto3" : "proto2";
  const lines = [`syntax = "${syntax}";`];
  if (typeof file.package === "string" && file.package) lines.push(`package ${file.package};`);
  for (const dep of (file.dependency as string[] | undefined) ?? []) lines.push(`import "${dep}";`);
  for (const message of list(file.messageType)) lines.push("", ...messageLines(message, syntax, ""));
  for (const value of list(file.enumType)) lines.push("", ...enumLines(value, ""));
  return `${lines.join("\n")}\n`;
}
