/**
 * Avro through avsc. REST Proxy reads a record with Avro's JSON decoder and writes consumed
 * records with Avro's JSON encoder: unions as {"branch": value} (null as null), bytes and fixed
 * as strings of code points 0-255, enums as symbols, logical types as their underlying type.
 *
 * Types are built with avsc's wrapUnions, whose in-memory form of a union is that same
 * {"branch": value} object, so for a schema without bytes or fixed the JSON is written as it is
 * and a read record already is the JSON encoding (no copy either way: a quarter of the cost of a
 * 1 KiB record). Otherwise avsc's JSON coercion converts: mode 2 reads the JSON encoding, mode 3
 * writes it (what its public fromString/toString use, minus the JSON text round trip).
 */
import avro from "avsc";
import { type Codec, ConversionError, SchemaParseError } from "./codec.ts";

/** avsc's internal copy with coercion; the public fromString/toString wrap exactly this call. */
interface Coercing {
  _copy(value: unknown, opts: { coerce: 2 | 3 }): unknown;
}

/** Whether any type reachable from `type` is bytes or fixed, whose JSON form is not avsc's. */
function hasBinary(type: avro.Type, seen = new Set<avro.Type>()): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  const t = type as unknown as {
    typeName: string;
    fields?: Array<{ type: avro.Type }>;
    itemsType?: avro.Type;
    valuesType?: avro.Type;
    types?: avro.Type[];
    underlyingType?: avro.Type;
  };
  if (t.typeName === "bytes" || t.typeName === "fixed") return true;
  const children = [
    ...(t.fields ?? []).map((f) => f.type),
    ...(t.itemsType ? [t.itemsType] : []),
    ...(t.valuesType ? [t.valuesType] : []),
    ...(t.types ?? []),
    ...(t.underlyingType ? [t.underlyingType] : []),
  ];
  return children.some((child) => hasBinary(child, seen));
}

export function compileAvro(schema: string, references: string[] = []): Codec {
  let type: avro.Type;
  try {
    // Referenced schemas define named types that the main schema uses by name.
    const registry = {};
    for (const reference of references) avro.Type.forSchema(JSON.parse(reference), { registry, wrapUnions: true });
    type = avro.Type.forSchema(JSON.parse(schema), { registry, wrapUnions: true });
  } catch (error) {
    throw new SchemaParseError((error as Error).message);
  }
  const coercing = type as unknown as Coercing;
  const coerce = hasBinary(type);
  return {
    recordName: type.name ?? type.typeName,
    encode(data) {
      try {
        return type.toBuffer(coerce ? coercing._copy(data, { coerce: 2 }) : data);
      } catch (error) {
        throw new ConversionError((error as Error).message);
      }
    },
    decode(payload) {
      try {
        const value = type.fromBuffer(payload);
        return coerce ? coercing._copy(value, { coerce: 3 }) : value;
      } catch (error) {
        throw new ConversionError(`Failed to convert Avro to JSON: ${(error as Error).message}`);
      }
    },
  };
}
