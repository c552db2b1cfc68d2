/**
 * v3 produce records whose key or value needs the Schema Registry, serialized as REST Proxy's
 * v3 ProduceAction does: for each side, the schema is found first (by `schema_id`, by
 * `schema_version`, from a raw `schema` of type AVRO/JSONSCHEMA/PROTOBUF, or, with no type at
 * all, the subject's latest), then the data is serialized with it; key before value.
 */
import { badRequest, partitionNotFound } from "../../errors.ts";
import type { ResolvedSchema, SchemaFormat, Schemas } from "../../schemas/index.ts";
import { v3TypeOfFormat } from "../../schemas/index.ts";
import {
  serialize,
  type V3Data,
  type V3DataType,
  type V3Record,
  type V3Request,
  type V3SchemaType,
  v3Record,
} from "./v3-records.ts";

const formatOfType: Record<V3SchemaType, SchemaFormat> = {
  AVRO: "avro",
  JSONSCHEMA: "jsonschema",
  PROTOBUF: "protobuf",
};

interface Side {
  bytes: Buffer | null;
  type: V3DataType | V3SchemaType | null;
  schema: ResolvedSchema | null;
}

async function side(schemas: Schemas, topic: string, data: V3Data | null, isKey: boolean): Promise<Side> {
  if (data === null) return { bytes: null, type: null, schema: null };
  if (data.type === "BINARY" || data.type === "JSON" || data.type === "STRING") {
    return { ...serialize(data), schema: null };
  }
  const format = data.type === null ? null : formatOfType[data.type as V3SchemaType];
  if (data.rawSchema !== null && format === null) {
    throw badRequest("Unsupported argument: a raw 'schema' needs its 'type' (AVRO, JSONSCHEMA or PROTOBUF).");
  }
  const schema = await schemas.resolve(
    topic,
    {
      format,
      rawSchema: data.rawSchema,
      schemaId: data.schemaId,
      schemaVersion: data.schemaVersion,
      subject: data.subject,
      strategy: data.strategy,
    },
    isKey,
  );
  return { bytes: schemas.serialize(schema, data.data, isKey), type: v3TypeOfFormat[schema.format], schema };
}

export async function encodeV3SchemaRecord(request: V3Request, topic: string, schemas: Schemas): Promise<V3Record> {
  if (request.partition !== null && request.partition < 0) throw partitionNotFound();
  const key = await side(schemas, topic, request.key, true);
  const value = await side(schemas, topic, request.value, false);
  return { ...v3Record(request, topic, key, value), keySchema: key.schema, valueSchema: value.schema };
}
