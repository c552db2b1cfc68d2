import protobuf from "protobufjs";
import descriptorModule from "protobufjs/ext/descriptor/index.js";
import { invalidSchema } from "../errors.ts";
import { protobufProblems } from "./protobuf-compat.ts";
import {
  addWellKnown,
  decodeDescriptor,
  FileDescriptorProto,
  fileDescriptor,
  isWellKnown,
  type ParsedFile,
  parseProtoText,
  wellKnownDescriptor,
} from "./protobuf-descriptor.ts";
import { descriptorToProtoText } from "./protobuf-text.ts";
import { errorText, flattenReferences, type ParsedSchema, type ResolvedReference, type SchemaFormat } from "./types.ts";

// Importing the extension adds Root.fromDescriptor to protobufjs.
void descriptorModule;
const fromDescriptor = (protobuf.Root as unknown as { fromDescriptor(set: unknown): protobuf.Root }).fromDescriptor;

/** The name a schema given as text gets in its FileDescriptorProto (clients rename it to the import name). */
const MAIN_FILE = "default.proto";

interface SourceFile {
  name: string;
  text: string;
}

class ProtobufSchema implements ParsedSchema {
  readonly schemaType = "PROTOBUF" as const;
  readonly canonical: string;
  readonly root: protobuf.Root;
  /** Full names (".pkg.Msg") of the top-level messages of the schema's own file. */
  readonly messages: string[];
  readonly packageName: string;
  private readonly serialized: string;
  private readonly text: string;

  constructor(
    canonical: string,
    root: protobuf.Root,
    messages: string[],
    packageName: string,
    renderings: { serialized: string; text: string },
  ) {
    this.canonical = canonical;
    this.root = root;
    this.messages = messages;
    this.packageName = packageName;
    this.serialized = renderings.serialized;
    this.text = renderings.text;
  }

  canRead(writer: ParsedSchema): string[] {
    if (!(writer instanceof ProtobufSchema)) return [`the earlier schema is ${writer.schemaType}, not PROTOBUF`];
    return protobufProblems(this, writer);
  }

  /** Base64 descriptor for `serialized`, else .proto text (registered as text: that text). */
  render(format: string | undefined): string {
    return format === "serialized" ? this.serialized : this.text;
  }
}

/**
 * Every file (references first, then the schema) as one FileDescriptorProto each, then one
 * protobufjs Root built from all of them, with the well-known types they import.
 */
function build(main: SourceFile, references: ResolvedReference[]): ProtobufSchema {
  const files = [...flattenReferences(references).map((r) => ({ name: r.name, text: r.schema })), main];
  const textRoot = new protobuf.Root();
  const loaded = new Set<string>();
  const parsedText: ParsedFile[] = [];
  const slots: (Record<string, unknown> | undefined)[] = files.map((file) => {
    const descriptor = decodeDescriptor(file.text);
    return descriptor ? { ...descriptor, name: file.name } : undefined;
  });
  for (const [i, file] of files.entries()) {
    if (slots[i]) continue;
    const parsed = parseProtoText(textRoot, file.name, file.text);
    parsedText.push(parsed);
    for (const imported of parsed.imports) {
      if (isWellKnown(imported) && !loaded.has(imported) && addWellKnown(textRoot, imported)) loaded.add(imported);
    }
  }
  textRoot.resolveAll();
  for (const parsed of parsedText) {
    const bytes = fileDescriptor(textRoot, parsed);
    slots[files.findIndex((f) => f.name === parsed.name)] = FileDescriptorProto.toObject(
      FileDescriptorProto.decode(bytes),
      { longs: Number, arrays: true },
    );
  }
  const descriptors = slots.filter((d): d is Record<string, unknown> => d !== undefined);
  // Well-known imports are never registered as references: protobufjs's own copies stand in.
  const wellKnown = new Map<string, Record<string, unknown>>();
  for (const d of descriptors) {
    for (const dep of (d.dependency as string[] | undefined) ?? []) {
      const known = isWellKnown(dep) && !wellKnown.has(dep) ? wellKnownDescriptor(dep) : null;
      if (known) wellKnown.set(dep, known);
    }
  }
  const root = fromDescriptor({ file: [...wellKnown.values(), ...descriptors] });

  const own = descriptors.find((d) => d.name === main.name) as { package?: string; messageType?: { name: string }[] };
  const packageName = own.package ?? "";
  const prefix = packageName ? `.${packageName}.` : ".";
  const messages = (own.messageType ?? []).map((m) => `${prefix}${m.name}`);
  const given = main.text.trim();
  const registeredAsDescriptor = decodeDescriptor(given) !== null;
  const renderings = registeredAsDescriptor
    ? { serialized: given, text: descriptorToProtoText(own as Record<string, unknown>) }
    : {
        serialized: Buffer.from(FileDescriptorProto.encode(own as Record<string, unknown>).finish()).toString("base64"),
        text: given,
      };
  return new ProtobufSchema(given, root, messages, packageName, renderings);
}

export const protobufFormat: SchemaFormat = {
  schemaType: "PROTOBUF",
  parse(schema: string, references: ResolvedReference[]): ParsedSchema {
    const descriptor = decodeDescriptor(schema);
    const name = descriptor && typeof descriptor.name === "string" && descriptor.name ? descriptor.name : MAIN_FILE;
    try {
      return build({ name, text: schema }, references);
    } catch (error) {
      throw invalidSchema(errorText(error));
    }
  },
};
