import avro from "avsc";
import { invalidSchema } from "../errors.ts";
import { errorText, flattenReferences, type ParsedSchema, type ResolvedReference, type SchemaFormat } from "./types.ts";

/**
 * Avro through avsc: parsing decides validity (names, defaults, unions), and compatibility is
 * avsc's schema resolution (`reader.createResolver(writer)`), the Avro specification's own rules.
 */
class AvroSchema implements ParsedSchema {
  readonly schemaType = "AVRO" as const;
  readonly canonical: string;
  readonly type: avro.Type;

  constructor(canonical: string, type: avro.Type) {
    this.canonical = canonical;
    this.type = type;
  }

  canRead(writer: ParsedSchema): string[] {
    if (!(writer instanceof AvroSchema)) return [`the earlier schema is ${writer.schemaType}, not AVRO`];
    try {
      this.type.createResolver(writer.type);
      return [];
    } catch (error) {
      return [`{errorType:'${errorType(errorText(error))}', description:'${errorText(error)}'}`];
    }
  }

  render(): string | null {
    return null;
  }
}

/** Confluent's names for the Avro incompatibilities avsc reports (by its messages). */
function errorType(message: string): string {
  if (message.includes("default-less")) return "READER_FIELD_MISSING_DEFAULT_VALUE";
  if (message.includes("no alias found")) return "NAME_MISMATCH";
  // avsc says "cannot read X as Y" for every other mismatch (types, enum symbols, fixed sizes).
  return "TYPE_MISMATCH";
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidSchema(`${what} is not JSON: ${errorText(error)}`);
  }
}

export const avroFormat: SchemaFormat = {
  schemaType: "AVRO",
  parse(schema: string, references: ResolvedReference[]): ParsedSchema {
    const json = parseJson(schema, "the schema");
    // Referenced named types go into one registry first, so the schema can name them.
    const registry: Record<string, avro.Type> = {};
    for (const ref of flattenReferences(references)) {
      try {
        avro.Type.forSchema(parseJson(ref.schema, `reference ${ref.name}`) as avro.Schema, { registry });
      } catch (error) {
        throw invalidSchema(`reference ${ref.name}: ${errorText(error)}`);
      }
    }
    try {
      const type = avro.Type.forSchema(json as avro.Schema, { registry });
      return new AvroSchema(JSON.stringify(json), type);
    } catch (error) {
      throw invalidSchema(errorText(error));
    }
  },
};
