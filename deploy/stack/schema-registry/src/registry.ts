/**
 * The registry's operations, in Confluent's terms and with its error codes. Reads come from the
 * in-memory state; every write goes to the log first and is applied only once Kafka acked it,
 * one write at a time, so ids and versions are assigned without races.
 */
import {
  type CompatibilityLevel,
  compatibilityProblems,
  DEFAULT_LEVEL,
  type Earlier,
  parseLevel,
} from "./compatibility.ts";
import {
  badRequest,
  incompatibleSchema,
  invalidSchema,
  invalidVersion,
  referenceExists,
  schemaNotFound,
  subjectConfigNotFound,
  subjectNotFound,
  subjectNotSoftDeleted,
  subjectSoftDeleted,
  versionNotFound,
  versionNotSoftDeleted,
  versionSoftDeleted,
} from "./errors.ts";
import {
  formatFor,
  type ParsedSchema,
  type ResolvedReference,
  type SchemaReference,
  type SchemaType,
  schemaTypeOf,
} from "./formats/index.ts";
import { contentKey, type LogEntry, type RegistryState, type StoredSchema, type VersionRecord } from "./state.ts";

export interface SchemaLog {
  /** Resolves once Kafka acknowledged every entry (acks=all), in order. */
  append(entries: LogEntry[]): Promise<void>;
}

/** A schema as clients send it (register, lookup, compatibility). */
export interface SchemaRequest {
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
}

export type VersionId = number | "latest";

const MAX_VERSION = 2 ** 31 - 1;

export function parseVersionId(raw: string): VersionId {
  if (raw === "latest" || raw === "-1") return "latest";
  if (!/^\d+$/.test(raw)) throw invalidVersion(raw);
  const version = Number(raw);
  if (version < 1 || version > MAX_VERSION) throw invalidVersion(raw);
  return version;
}

export function parseSchemaRequest(body: unknown): SchemaRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest("The request body must be a JSON object");
  const { schema, schemaType, references } = body as Record<string, unknown>;
  if (typeof schema !== "string" || schema.trim() === "") throw invalidSchema("the request has no schema");
  const refs: SchemaReference[] = [];
  if (references !== undefined && references !== null) {
    if (!Array.isArray(references)) throw invalidSchema("references must be a list");
    for (const ref of references) {
      const { name, subject, version } = (ref ?? {}) as Record<string, unknown>;
      if (typeof name !== "string" || typeof subject !== "string" || !Number.isInteger(version)) {
        throw invalidSchema(`each reference needs a name, a subject and a version: ${JSON.stringify(ref)}`);
      }
      refs.push({ name, subject, version: version as number });
    }
  }
  return { schema, schemaType: schemaTypeOf(schemaType), references: refs };
}

export function createRegistry(state: RegistryState, log: SchemaLog) {
  const parsedById = new Map<number, ParsedSchema>();
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs `work` after every earlier write has finished (whatever its outcome). */
  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work, work);
    queue = run.catch(() => {});
    return run;
  }

  async function write(entries: LogEntry[]): Promise<void> {
    await log.append(entries);
    for (const entry of entries) state.apply(entry);
  }

  function resolveReferences(references: SchemaReference[], depth = 0): ResolvedReference[] {
    if (depth > 32) throw invalidSchema("references nest more than 32 deep");
    return references.map((ref) => {
      const record = ref.version === -1 ? state.versions(ref.subject).at(-1) : state.record(ref.subject, ref.version);
      if (!record)
        throw invalidSchema(`reference ${ref.name}: subject ${ref.subject} version ${ref.version} not found`);
      return {
        name: ref.name,
        schemaType: record.schemaType,
        schema: record.schema,
        references: resolveReferences(record.references, depth + 1),
      };
    });
  }

  function parse(request: SchemaRequest): ParsedSchema {
    return formatFor(request.schemaType).parse(request.schema, resolveReferences(request.references));
  }

  function parsedOf(stored: StoredSchema): ParsedSchema {
    let parsed = parsedById.get(stored.id);
    if (!parsed) {
      parsed = formatFor(stored.schemaType).parse(stored.schema, resolveReferences(stored.references));
      parsedById.set(stored.id, parsed);
    }
    return parsed;
  }

  function levelOf(subject: string): CompatibilityLevel {
    return parseLevel(state.config(subject) ?? state.config(null) ?? DEFAULT_LEVEL);
  }

  function earlier(records: VersionRecord[]): Earlier[] {
    return records.map((r) => ({ version: r.version, parsed: parsedOf(stored(r)) }));
  }

  function stored(record: VersionRecord): StoredSchema {
    return state.schemaById(record.id) ?? { ...record };
  }

  function liveVersions(subject: string, deleted = false): VersionRecord[] {
    const versions = state.versions(subject, deleted);
    if (versions.length === 0) throw subjectNotFound(subject);
    return versions;
  }

  function findVersion(subject: string, id: VersionId, deleted = false): VersionRecord {
    const versions = liveVersions(subject, deleted);
    const record = id === "latest" ? versions.at(-1) : versions.find((r) => r.version === id);
    if (!record) throw versionNotFound(id);
    return record;
  }

  function canonicalKey(request: SchemaRequest, parsed: ParsedSchema): string {
    return contentKey(request.schemaType, parsed.canonical, request.references);
  }

  /** A live schema elsewhere that references one of `records` (which then may not be deleted). */
  function assertUnreferenced(records: VersionRecord[]): void {
    for (const other of state.allRecords()) {
      if (other.deleted) continue;
      for (const ref of other.references) {
        const hit = records.find((r) => r.subject === ref.subject && r.version === ref.version);
        if (hit && !(other.subject === hit.subject)) throw referenceExists(hit.subject, hit.version);
      }
    }
  }

  return {
    async register(subject: string, request: SchemaRequest): Promise<{ id: number }> {
      const parsed = parse(request);
      const key = canonicalKey(request, parsed);
      return serialized(async () => {
        const live = state.versions(subject);
        const same = live.find((r) => contentKey(r.schemaType, r.schema, r.references) === key);
        if (same) return { id: same.id };
        const problems = compatibilityProblems(levelOf(subject), parsed, earlier(live));
        if (problems.length > 0) throw incompatibleSchema(subject, problems);
        const id = state.idOf(key) ?? state.nextId();
        const version = state.nextVersion(subject);
        const record: VersionRecord = {
          subject,
          version,
          id,
          schemaType: request.schemaType,
          schema: parsed.canonical,
          references: request.references,
          deleted: false,
        };
        await write([{ kind: "schema", subject, version, value: record }]);
        parsedById.set(id, parsedById.get(id) ?? parsed);
        return { id };
      });
    },

    lookup(subject: string, request: SchemaRequest, deleted: boolean): VersionRecord {
      const versions = liveVersions(subject, deleted);
      const key = canonicalKey(request, parse(request));
      const found = versions.find((r) => contentKey(r.schemaType, r.schema, r.references) === key);
      if (!found) throw schemaNotFound();
      return found;
    },

    subjects(deleted: boolean): string[] {
      return state.subjectNames(deleted);
    },

    versions(subject: string, deleted: boolean): number[] {
      return liveVersions(subject, deleted).map((r) => r.version);
    },

    version(subject: string, id: VersionId, deleted: boolean): VersionRecord {
      return findVersion(subject, id, deleted);
    },

    schemaById(id: number): StoredSchema {
      const found = state.schemaById(id);
      if (!found) throw schemaNotFound(id);
      return found;
    },

    /** The schema as answered (Protobuf: text, or base64 with `?format=serialized`), else as stored. */
    rendered(schema: StoredSchema, format: string | undefined): string {
      if (schema.schemaType !== "PROTOBUF") return schema.schema;
      return parsedOf(schema).render(format) ?? schema.schema;
    },

    idUsage(id: number, deleted: boolean): VersionRecord[] {
      if (!state.schemaById(id)) throw schemaNotFound(id);
      return [...state.allRecords()]
        .filter((r) => r.id === id && (deleted || !r.deleted))
        .sort((a, b) => a.subject.localeCompare(b.subject) || a.version - b.version);
    },

    deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
      return serialized(async () => {
        const all = state.versions(subject, true);
        if (all.length === 0) throw subjectNotFound(subject);
        const live = all.filter((r) => !r.deleted);
        if (permanent) {
          if (live.length > 0) throw subjectNotSoftDeleted(subject);
          await write([
            ...all.map((r): LogEntry => ({ kind: "schema", subject, version: r.version, value: null })),
            ...(state.config(subject) ? [{ kind: "config" as const, subject, value: null }] : []),
          ]);
          return all.map((r) => r.version);
        }
        if (live.length === 0) throw subjectSoftDeleted(subject);
        assertUnreferenced(live);
        await write(live.map((r) => ({ kind: "schema", subject, version: r.version, value: { ...r, deleted: true } })));
        return live.map((r) => r.version);
      });
    },

    deleteVersion(subject: string, id: VersionId, permanent: boolean): Promise<number> {
      return serialized(async () => {
        const all = state.versions(subject, true);
        if (all.length === 0) throw subjectNotFound(subject);
        const record =
          id === "latest"
            ? (permanent ? all : all.filter((r) => !r.deleted)).at(-1)
            : all.find((r) => r.version === id);
        if (!record) throw versionNotFound(id);
        if (permanent && !record.deleted) throw versionNotSoftDeleted(subject, record.version);
        if (!permanent && record.deleted) throw versionSoftDeleted(subject, record.version);
        assertUnreferenced([record]);
        const value = permanent ? null : { ...record, deleted: true };
        await write([{ kind: "schema", subject, version: record.version, value }]);
        return record.version;
      });
    },

    /** Confluent's compatibility test: against one version (or none yet under "latest"). */
    testCompatibility(subject: string, id: VersionId, request: SchemaRequest, verbose: boolean): string[] {
      let target: VersionRecord | undefined;
      const live = state.versions(subject);
      if (id === "latest") target = live.at(-1);
      else {
        target = live.find((r) => r.version === id);
        if (!target) throw versionNotFound(id);
      }
      let parsed: ParsedSchema;
      try {
        parsed = parse(request);
      } catch (error) {
        if (verbose && error instanceof Error) return [error.message];
        throw error;
      }
      return compatibilityProblems(levelOf(subject), parsed, target ? earlier([target]) : []);
    },

    config(subject: string | null, defaultToGlobal: boolean): CompatibilityLevel {
      const own = state.config(subject);
      if (own) return parseLevel(own);
      if (subject !== null && !defaultToGlobal) throw subjectConfigNotFound(subject);
      return parseLevel(state.config(null) ?? DEFAULT_LEVEL);
    },

    setConfig(subject: string | null, level: CompatibilityLevel): Promise<void> {
      return serialized(() => write([{ kind: "config", subject, value: { compatibilityLevel: level } }]));
    },

    deleteConfig(subject: string | null): Promise<CompatibilityLevel> {
      return serialized(async () => {
        const own = state.config(subject);
        if (subject !== null && !own && state.versions(subject, true).length === 0) throw subjectNotFound(subject);
        const previous = parseLevel(own ?? state.config(null) ?? DEFAULT_LEVEL);
        if (own) await write([{ kind: "config", subject, value: null }]);
        return previous;
      });
    },
  };
}

export type Registry = ReturnType<typeof createRegistry>;
