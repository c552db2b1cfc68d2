/**
 * JSON Schema through ajv. REST Proxy validates the value against the schema and writes it as
 * JSON text after the wire header; consuming parses that text back. The draft comes from the
 * schema's $schema (draft-07 when absent, Confluent's default; 2019-09 and 2020-12 have their own
 * ajv classes). Unknown keywords are allowed, as Confluent's validator allows them.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { type Codec, ConversionError, SchemaParseError } from "./codec.ts";

// ajv-formats is CommonJS with its function as the default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

type AjvClass = typeof Ajv | typeof Ajv2019 | typeof Ajv2020;

function ajvFor(schema: unknown): AjvClass {
  const dialect = typeof schema === "object" && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
  if (typeof dialect === "string" && dialect.includes("2020-12")) return Ajv2020;
  if (typeof dialect === "string" && dialect.includes("2019-09")) return Ajv2019;
  return Ajv;
}

export function compileJsonSchema(text: string, references: Array<{ name: string; schema: string }> = []): Codec {
  let validate: ValidateFunction;
  let title: string | null = null;
  try {
    const schema = JSON.parse(text) as unknown;
    if (typeof schema !== "object" && typeof schema !== "boolean")
      throw new Error("a JSON Schema is an object or a boolean");
    const AjvClass = ajvFor(schema);
    // One ajv per schema: ajv refuses a second schema with an $id it already holds.
    const ajv = new AjvClass({ strict: false, allErrors: false, validateFormats: true });
    addFormats(ajv as Ajv);
    for (const reference of references) ajv.addSchema(JSON.parse(reference.schema), reference.name);
    validate = ajv.compile(schema as object);
    const t = (schema as { title?: unknown }).title;
    title = typeof t === "string" ? t : null;
  } catch (error) {
    throw new SchemaParseError((error as Error).message);
  }
  return {
    recordName: title,
    encode(data) {
      if (!validate(data)) {
        const first = validate.errors?.[0];
        const where = first?.instancePath ? `${first.instancePath}: ` : "";
        throw new ConversionError(`${where}${first?.message ?? "does not match the schema"}`);
      }
      return Buffer.from(JSON.stringify(data));
    },
    decode(payload) {
      try {
        return JSON.parse(payload.toString("utf8"));
      } catch (error) {
        throw new ConversionError(`Failed to convert JSON Schema to JSON: ${(error as Error).message}`);
      }
    },
  };
}
