/** What every schema format (Avro, JSON Schema, Protobuf) offers the registry. */

export type SchemaType = "AVRO" | "JSON" | "PROTOBUF";

export const SCHEMA_TYPES: readonly SchemaType[] = ["JSON", "PROTOBUF", "AVRO"];

/** A reference as clients send it: `name` is how the schema imports it (an Avro full name, a JSON `$ref`, a .proto path). */
export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A reference with its schema text, and that schema's own references, resolved by the registry. */
export interface ResolvedReference {
  name: string;
  schemaType: SchemaType;
  schema: string;
  references: ResolvedReference[];
}

export interface ParsedSchema {
  readonly schemaType: SchemaType;
  /** The text the registry stores and answers with; equal texts are the same schema (same id). */
  readonly canonical: string;
  /**
   * Why data written with `writer` could not be read with this schema as the reader; empty when it
   * can. BACKWARD asks new.canRead(old), FORWARD old.canRead(new).
   */
  canRead(writer: ParsedSchema): string[];
  /** The schema as answered for `?format=` (absent: the default), or null for the stored text. */
  render(format: string | undefined): string | null;
}

export interface SchemaFormat {
  readonly schemaType: SchemaType;
  /** Parses and checks a schema; throws RegistryError 42201 when it is not a valid schema of this format. */
  parse(schema: string, references: ResolvedReference[]): ParsedSchema;
}

/** Every reference once, dependencies before the schemas that import them. */
export function flattenReferences(references: ResolvedReference[]): ResolvedReference[] {
  const seen = new Set<string>();
  const out: ResolvedReference[] = [];
  const visit = (ref: ResolvedReference) => {
    if (seen.has(ref.name)) return;
    seen.add(ref.name);
    for (const inner of ref.references) visit(inner);
    out.push(ref);
  };
  for (const ref of references) visit(ref);
  return out;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
