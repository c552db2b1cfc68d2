import { invalidCompatibilityLevel } from "./errors.ts";
import type { ParsedSchema } from "./formats/index.ts";

export const LEVELS = [
  "NONE",
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
] as const;

export type CompatibilityLevel = (typeof LEVELS)[number];

export const DEFAULT_LEVEL: CompatibilityLevel = "BACKWARD";

export function parseLevel(value: unknown): CompatibilityLevel {
  const upper = typeof value === "string" ? value.toUpperCase() : "";
  if ((LEVELS as readonly string[]).includes(upper)) return upper as CompatibilityLevel;
  throw invalidCompatibilityLevel();
}

export interface Earlier {
  version: number;
  parsed: ParsedSchema;
}

/**
 * Why `candidate` may not follow `earlier` (oldest first) under `level`; empty when it may.
 * BACKWARD: the new schema reads data written with the old. FORWARD: the old reads the new.
 * FULL: both. Without _TRANSITIVE only the newest earlier version is checked.
 */
export function compatibilityProblems(
  level: CompatibilityLevel,
  candidate: ParsedSchema,
  earlier: Earlier[],
): string[] {
  if (level === "NONE" || earlier.length === 0) return [];
  const against = level.endsWith("_TRANSITIVE") ? [...earlier].reverse() : earlier.slice(-1);
  const backward = level.startsWith("BACKWARD") || level.startsWith("FULL");
  const forward = level.startsWith("FORWARD") || level.startsWith("FULL");
  for (const old of against) {
    const problems = [
      ...(backward ? candidate.canRead(old.parsed) : []),
      ...(forward ? old.parsed.canRead(candidate) : []),
    ];
    if (problems.length > 0) {
      return [
        ...problems,
        `{oldSchemaVersion: ${old.version}}`,
        `{oldSchema: '${old.parsed.canonical}'}`,
        `{compatibility: '${level}'}`,
      ];
    }
  }
  return [];
}
