import { Ajv, type AnySchema } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { invalidSchema } from "../errors.ts";
import { jsonSchemaProblems } from "./json-compat.ts";
import { errorText, flattenReferences, type ParsedSchema, type ResolvedReference, type SchemaFormat } from "./types.ts";

// ajv-formats is CommonJS with a default export; under nodenext its type is the module namespace.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Draft-07 unless `$schema` names 2019-09 or 2020-12 (ajv compiles each with its own meta-schema). */
function ajvFor(schema: unknown): Ajv {
  const declared =
    typeof schema === "object" && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
  const options = { strict: false, allErrors: false, validateSchema: true } as const;
  let ajv: Ajv;
  if (typeof declared === "string" && declared.includes("2020-12")) ajv = new Ajv2020(options);
  else if (typeof declared === "string" && declared.includes("2019-09")) ajv = new Ajv2019(options);
  else ajv = new Ajv(options);
  return addFormats(ajv);
}

class JsonSchema implements ParsedSchema {
  readonly schemaType = "JSON" as const;
  readonly canonical: string;
  readonly document: unknown;

  constructor(canonical: string, document: unknown) {
    this.canonical = canonical;
    this.document = document;
  }

  canRead(writer: ParsedSchema): string[] {
    if (!(writer instanceof JsonSchema)) return [`the earlier schema is ${writer.schemaType}, not JSON`];
    return jsonSchemaProblems(this.document, writer.document);
  }

  render(): string | null {
    return null;
  }
}

export const jsonSchemaFormat: SchemaFormat = {
  schemaType: "JSON",
  parse(schema: string, references: ResolvedReference[]): ParsedSchema {
    let document: unknown;
    try {
      document = JSON.parse(schema);
    } catch (error) {
      throw invalidSchema(`the schema is not JSON: ${errorText(error)}`);
    }
    if (
      typeof document !== "boolean" &&
      (typeof document !== "object" || document === null || Array.isArray(document))
    ) {
      throw invalidSchema("a JSON Schema is an object or a boolean");
    }
    const ajv = ajvFor(document);
    try {
      // A reference is found under the name the schema's `$ref` uses.
      for (const ref of flattenReferences(references)) ajv.addSchema(JSON.parse(ref.schema) as AnySchema, ref.name);
      ajv.compile(document as AnySchema);
    } catch (error) {
      throw invalidSchema(errorText(error));
    }
    return new JsonSchema(JSON.stringify(document), document);
  },
};
