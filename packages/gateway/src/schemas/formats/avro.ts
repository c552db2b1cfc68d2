/**
 * Avro through avsc. REST Proxy reads a record with Avro's JSON decoder and writes consumed
 * records with Avro's JSON encoder: unions as {"branch": value} (null as null), bytes and fixed
 * as strings of code points 0-255, enums as symbols, logical types as their underlying type.
 * avsc's JSON coercion modes are that same encoding: mode 2 reads it, mode 3 writes it (they are
 * what its public fromString/toString use, minus the JSON text round trip).
 */
import avro from "avsc";
import { type Codec, ConversionError, SchemaParseError } from "./codec.ts";

/** avsc's internal copy with coercion; the public fromString/toString wrap exactly this call. */
interface Coercing {
  _copy(value: unknown, opts: { coerce: 2 | 3 }): unknown;
}

export function compileAvro(schema: string, references: string[] = []): Codec {
  let type: avro.Type;
  try {
    // Referenced schemas define named types that the main schema uses by name.
    const registry = {};
    for (const reference of references) avro.Type.forSchema(JSON.parse(reference), { registry });
    type = avro.Type.forSchema(JSON.parse(schema), { registry });
  } catch (error) {
    throw new SchemaParseError((error as Error).message);
  }
  const coercing = type as unknown as Coercing;
  return {
    recordName: type.name ?? type.typeName,
    encode(data) {
      try {
        return type.toBuffer(coercing._copy(data, { coerce: 2 }));
      } catch (error) {
        throw new ConversionError((error as Error).message);
      }
    },
    decode(payload) {
      try {
        return coercing._copy(type.fromBuffer(payload), { coerce: 3 });
      } catch (error) {
        throw new ConversionError(`Failed to convert Avro to JSON: ${(error as Error).message}`);
      }
    },
  };
}
