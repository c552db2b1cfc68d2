import { invalidSchema } from "../errors.ts";
import { avroFormat } from "./avro.ts";
import { jsonSchemaFormat } from "./json-schema.ts";
import { protobufFormat } from "./protobuf.ts";
import { SCHEMA_TYPES, type SchemaFormat, type SchemaType } from "./types.ts";

export type { ParsedSchema, ResolvedReference, SchemaReference, SchemaType } from "./types.ts";
export { SCHEMA_TYPES } from "./types.ts";

const FORMATS: Record<SchemaType, SchemaFormat> = {
  AVRO: avroFormat,
  JSON: jsonSchemaFormat,
  PROTOBUF: protobufFormat,
};

export function schemaTypeOf(value: unknown): SchemaType {
  if (value === undefined || value === null) return "AVRO";
  const upper = typeof value === "string" ? value.toUpperCase() : "";
  if ((SCHEMA_TYPES as readonly string[]).includes(upper)) return upper as SchemaType;
  throw invalidSchema(`type ${JSON.stringify(value)}: the schema types are ${SCHEMA_TYPES.join(", ")}`);
}

export function formatFor(type: SchemaType): SchemaFormat {
  return FORMATS[type];
}
