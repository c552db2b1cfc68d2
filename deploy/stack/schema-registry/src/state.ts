/**
 * The registry's state as the `_schemas` log builds it: every record is applied in log order, at
 * replay and after each acknowledged write, and nothing else changes it.
 */
import type { SchemaReference, SchemaType } from "./formats/index.ts";

export interface VersionRecord {
  subject: string;
  version: number;
  id: number;
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
  deleted: boolean;
}

export type LogEntry =
  | { kind: "schema"; subject: string; version: number; value: VersionRecord | null }
  | { kind: "config"; subject: string | null; value: { compatibilityLevel: string } | null };

export interface StoredSchema {
  id: number;
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
}

/** Two registrations are the same schema when type, canonical text and references agree. */
export function contentKey(schemaType: SchemaType, schema: string, references: SchemaReference[]): string {
  const refs = references.map((r) => `${r.name}\u0000${r.subject}\u0000${r.version}`).join("\u0001");
  return `${schemaType}\u0002${refs}\u0002${schema}`;
}

export class RegistryState {
  private readonly subjects = new Map<string, Map<number, VersionRecord>>();
  private readonly schemas = new Map<number, StoredSchema>();
  private readonly ids = new Map<string, number>();
  private readonly configs = new Map<string | null, string>();
  private highestId = 0;

  apply(entry: LogEntry): void {
    if (entry.kind === "config") {
      if (entry.value) this.configs.set(entry.subject, entry.value.compatibilityLevel);
      else this.configs.delete(entry.subject);
      return;
    }
    let versions = this.subjects.get(entry.subject);
    const previous = versions?.get(entry.version);
    if (!entry.value) {
      versions?.delete(entry.version);
      if (versions?.size === 0) this.subjects.delete(entry.subject);
      if (previous) this.forgetIfUnused(previous.id);
      return;
    }
    if (!versions) {
      versions = new Map();
      this.subjects.set(entry.subject, versions);
    }
    const record = entry.value;
    versions.set(entry.version, record);
    this.highestId = Math.max(this.highestId, record.id);
    if (!this.schemas.has(record.id)) {
      this.schemas.set(record.id, {
        id: record.id,
        schemaType: record.schemaType,
        schema: record.schema,
        references: record.references,
      });
      this.ids.set(contentKey(record.schemaType, record.schema, record.references), record.id);
    }
  }

  private forgetIfUnused(id: number): void {
    for (const versions of this.subjects.values()) {
      for (const record of versions.values()) if (record.id === id) return;
    }
    const stored = this.schemas.get(id);
    if (!stored) return;
    this.schemas.delete(id);
    this.ids.delete(contentKey(stored.schemaType, stored.schema, stored.references));
  }

  /** The next id: global, increasing, never one the log has used (even if deleted since). */
  nextId(): number {
    return this.highestId + 1;
  }

  idOf(key: string): number | undefined {
    return this.ids.get(key);
  }

  schemaById(id: number): StoredSchema | undefined {
    return this.schemas.get(id);
  }

  /** Versions of a subject, ascending; soft-deleted ones only with `deleted`. */
  versions(subject: string, deleted = false): VersionRecord[] {
    const versions = this.subjects.get(subject);
    if (!versions) return [];
    return [...versions.values()].filter((r) => deleted || !r.deleted).sort((a, b) => a.version - b.version);
  }

  record(subject: string, version: number): VersionRecord | undefined {
    return this.subjects.get(subject)?.get(version);
  }

  /** The version the next registration under `subject` gets. */
  nextVersion(subject: string): number {
    const all = this.versions(subject, true);
    return (all.at(-1)?.version ?? 0) + 1;
  }

  subjectNames(deleted = false): string[] {
    return [...this.subjects.keys()].filter((s) => this.versions(s, deleted).length > 0).sort();
  }

  /** Every version record, for lookups by id and reference checks. */
  *allRecords(): Generator<VersionRecord> {
    for (const versions of this.subjects.values()) yield* versions.values();
  }

  config(subject: string | null): string | undefined {
    return this.configs.get(subject);
  }
}
