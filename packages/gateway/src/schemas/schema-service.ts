/**
 * REST Proxy's SchemaManager and schema serializers, over one registry client: finds (or
 * registers) the schema a produce request names, turns JSON into Confluent's wire format, and
 * decodes consumed records by the schema id each carries. Compiled schemas are cached by id and
 * by schema text, so a request in the steady state costs no registry call and no compilation.
 */
import { invalidSchema, jsonConversion, keySchemaMissing, RestError, valueSchemaMissing } from "../errors.ts";
import { compileAvro } from "./formats/avro.ts";
import { type Codec, ConversionError, SchemaParseError } from "./formats/codec.ts";
import { compileJsonSchema } from "./formats/json-schema.ts";
import { compileProtobuf } from "./formats/protobuf.ts";
import type { RegistrySchema, SchemaRegistry, SchemaType } from "./registry-client.ts";
import type { SchemaRegistryConfig, SubjectNameStrategy } from "./settings.ts";
import { frame, unframe } from "./wire.ts";

export type SchemaFormat = "avro" | "jsonschema" | "protobuf";

const typeOfFormat: Record<SchemaFormat, SchemaType> = { avro: "AVRO", jsonschema: "JSON", protobuf: "PROTOBUF" };
const formatOfType: Record<SchemaType, SchemaFormat> = { AVRO: "avro", JSON: "jsonschema", PROTOBUF: "protobuf" };
/** REST Proxy v3's names of the schema types. */
export const v3TypeOfFormat: Record<SchemaFormat, "AVRO" | "JSONSCHEMA" | "PROTOBUF"> = {
  avro: "AVRO",
  jsonschema: "JSONSCHEMA",
  protobuf: "PROTOBUF",
};

/** What a produce request says about one side's schema (REST Proxy's SchemaManager.getSchema arguments). */
export interface SchemaRequest {
  /** The format of `rawSchema`; null when the schema is named by id, version or subject. */
  format: SchemaFormat | null;
  rawSchema: string | null;
  schemaId: number | null;
  schemaVersion: number | null;
  subject: string | null;
  strategy: SubjectNameStrategy | null;
}

export interface ResolvedSchema {
  id: number;
  subject: string;
  version: number;
  format: SchemaFormat;
  codec: Codec;
}

export interface Schemas {
  /** Finds, or registers, the schema a request names for the topic's key or value. */
  resolve(topic: string, request: SchemaRequest, isKey: boolean): Promise<ResolvedSchema>;
  /** One key or value, serialized as REST Proxy's SchemaRecordSerializer does; null stays null. */
  serialize(schema: ResolvedSchema | null, data: unknown, isKey: boolean): Buffer | null;
  /** Loads the schemas of these records' ids (one registry call per id not seen before). */
  prepare(format: SchemaFormat, records: Array<Buffer | null>): Promise<void>;
  /** A consumed key or value in REST Proxy's JSON; call prepare first. Throws RecordDecodeError. */
  deserialize(format: SchemaFormat, bytes: Buffer | null): unknown;
  close(): void;
}

/** A consumed record the format cannot read: not in the wire format, or naming a schema of another kind. */
export class RecordDecodeError extends Error {}

const MAX_CACHED_TEXTS = 1000;
const MAX_REFERENCE_DEPTH = 8;

export function createSchemas(config: SchemaRegistryConfig, registry: SchemaRegistry): Schemas {
  /** Compiled schemas by registry id (format + codec); a failed load is not kept. */
  const byId = new Map<number, { format: SchemaFormat; codec: Codec }>();
  const loading = new Map<number, Promise<void>>();
  /** Compiled raw schemas by format and text, so a request that repeats its schema skips compiling. */
  const byText = new Map<string, Codec>();
  /** Ids the registry does not know, as of the last prepare that asked: their records fail to decode. */
  const missing = new Map<number, string>();
  /** Resolutions that need no registry call once made: a raw schema under its subject, a schema id. */
  const resolved = new Map<string, ResolvedSchema>();

  const referencesOf = async (schema: RegistrySchema, depth = 0): Promise<Array<{ name: string; schema: string }>> => {
    if (schema.references.length === 0) return [];
    if (depth > MAX_REFERENCE_DEPTH) throw invalidSchema("schema references nest too deeply");
    const out: Array<{ name: string; schema: string }> = [];
    for (const ref of schema.references) {
      const target = await registry.byVersion(ref.subject, ref.version);
      // Dependencies first: a referenced schema's own references define names it uses.
      out.push(...(await referencesOf(target, depth + 1)), { name: ref.name, schema: target.schema });
    }
    return out;
  };

  const compile = (format: SchemaFormat, text: string, references: Array<{ name: string; schema: string }>) => {
    const key = `${format}\u0000${text}\u0000${references.map((r) => r.schema).join("\u0000")}`;
    const cached = byText.get(key);
    if (cached) return cached;
    let codec: Codec;
    try {
      codec =
        format === "avro"
          ? compileAvro(
              text,
              references.map((r) => r.schema),
            )
          : format === "jsonschema"
            ? compileJsonSchema(text, references)
            : compileProtobuf(text, references);
    } catch (error) {
      if (error instanceof SchemaParseError) {
        throw invalidSchema(
          `Error when parsing raw schema. format = ${typeOfFormat[format]}, schema = ${text}\n${error.message}`,
        );
      }
      throw error;
    }
    if (byText.size >= MAX_CACHED_TEXTS) byText.clear();
    byText.set(key, codec);
    return codec;
  };

  const load = (id: number): Promise<void> => {
    if (byId.has(id)) return Promise.resolve();
    let pending = loading.get(id);
    if (!pending) {
      pending = (async () => {
        const schema = await registry.byId(id);
        const format = formatOfType[schema.schemaType];
        if (!format) throw invalidSchema(`schema ${id} is of type ${schema.schemaType}, which has no embedded format`);
        byId.set(id, { format, codec: compile(format, schema.schema, await referencesOf(schema)) });
      })().finally(() => loading.delete(id));
      loading.set(id, pending);
    }
    return pending;
  };

  const subjectFor = (topic: string, isKey: boolean, strategy: SubjectNameStrategy | null, codec: Codec | null) => {
    const chosen = strategy ?? (isKey ? config.keySubjectNameStrategy : config.valueSubjectNameStrategy);
    if (chosen === "TOPIC_NAME") return `${topic}-${isKey ? "key" : "value"}`;
    if (codec === null) {
      throw new RestError(
        400,
        400,
        `Cannot use${strategy ? "" : " default"} schema_subject_strategy${strategy ? `=${strategy}` : ""} without schema_id or schema.`,
      );
    }
    if (codec.recordName === null) throw invalidSchema("the schema has no record name for the subject name strategy");
    return chosen === "RECORD_NAME" ? codec.recordName : `${topic}-${codec.recordName}`;
  };

  const cacheKey = (topic: string, r: SchemaRequest, isKey: boolean) =>
    JSON.stringify([topic, isKey, r.format, r.rawSchema, r.schemaId, r.subject, r.strategy]);

  return {
    async resolve(topic, request, isKey) {
      // A schema version or the latest of a subject can change: only ids and raw schemas are kept.
      const stable = request.schemaId !== null || request.rawSchema !== null;
      const key = stable ? cacheKey(topic, request, isKey) : "";
      const hit = stable ? resolved.get(key) : undefined;
      if (hit) return hit;
      let result: ResolvedSchema;
      if (request.schemaId !== null) {
        await load(request.schemaId);
        const loaded = byId.get(request.schemaId) as { format: SchemaFormat; codec: Codec };
        const subject = request.subject ?? subjectFor(topic, isKey, request.strategy, loaded.codec);
        const schema = await registry.byId(request.schemaId);
        const version = await registry.versionOf(subject, schema);
        result = { id: request.schemaId, subject, version, ...loaded };
      } else if (request.rawSchema !== null && request.format !== null) {
        const format = request.format;
        const codec = compile(format, request.rawSchema, []);
        const subject = request.subject ?? subjectFor(topic, isKey, request.strategy, codec);
        const schema: RegistrySchema = { schemaType: typeOfFormat[format], schema: request.rawSchema, references: [] };
        const id = await registry.findOrRegister(subject, schema);
        const version = await registry.versionOf(subject, schema);
        byId.set(id, { format, codec });
        result = { id, subject, version, format, codec };
      } else {
        const subject = request.subject ?? subjectFor(topic, isKey, request.strategy, null);
        const found = await registry.byVersion(subject, request.schemaVersion);
        await load(found.id);
        result = {
          id: found.id,
          subject,
          version: found.version,
          ...(byId.get(found.id) as { format: SchemaFormat; codec: Codec }),
        };
      }
      if (stable) {
        if (resolved.size >= MAX_CACHED_TEXTS) resolved.clear();
        resolved.set(key, result);
      }
      return result;
    },

    serialize(schema, data, isKey) {
      if (data === null || data === undefined) return null;
      if (schema === null) throw isKey ? keySchemaMissing() : valueSchemaMissing();
      try {
        return frame(schema.id, schema.codec.encode(data));
      } catch (error) {
        if (error instanceof ConversionError) throw jsonConversion(error.message);
        throw error;
      }
    },

    async prepare(_format, records) {
      const ids = new Set<number>();
      for (const bytes of records) {
        const framed = bytes ? unframe(bytes) : null;
        if (framed && !byId.has(framed.id)) ids.add(framed.id);
      }
      // An id the registry refuses fails its records only; a registry that is down fails the read.
      await Promise.all(
        [...ids].map((id) =>
          load(id).then(
            () => missing.delete(id),
            (error: unknown) => {
              if (error instanceof RestError && error.status < 500) missing.set(id, error.message);
              else throw error;
            },
          ),
        ),
      );
    },

    deserialize(format, bytes) {
      if (bytes === null) return null;
      const framed = unframe(bytes);
      if (framed === null) throw new RecordDecodeError("Unknown magic byte!");
      const loaded = byId.get(framed.id);
      if (!loaded) throw new RecordDecodeError(missing.get(framed.id) ?? `Schema ${framed.id} not found`);
      if (loaded.format !== format) {
        throw new RecordDecodeError(
          `Schema ${framed.id} is a ${typeOfFormat[loaded.format]} schema, not ${typeOfFormat[format]}`,
        );
      }
      try {
        return loaded.codec.decode(framed.payload);
      } catch (error) {
        throw new RecordDecodeError(
          `Error deserializing payload for schema id ${framed.id}: ${(error as Error).message}`,
        );
      }
    },

    close() {
      registry.close();
    },
  };
}
