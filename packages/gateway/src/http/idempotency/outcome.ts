/**
 * Which first answers are kept for replay. A stored answer is final for the key: a retry with it
 * gets that answer and writes nothing. So an answer is released (not stored) exactly when the
 * client should retry the whole request and that retry cannot write a record twice:
 *
 * - 5xx, 429 and 408 as a whole: nothing was written, the request may succeed later.
 * - 200/207 whose records ALL failed with a retriable error (50003, in-band 5xx or 429): nothing
 *   was acknowledged, so repeating the request is what the client wants.
 * - 200/207 with at least one acknowledged record is stored, even if others failed retriably:
 *   releasing it would let a retry write the acknowledged ones again. The stored answer says
 *   which records failed; the client resends those (and only those) under a new key.
 * - Every other 4xx is stored: the same request would be refused the same way.
 */
import { ErrorCode } from "../../errors.ts";

const retriableCode = (code: unknown): boolean =>
  typeof code === "number" && (code === ErrorCode.KafkaRetriable || code === 429 || (code >= 500 && code < 600));

export function shouldStore(status: number, body: Uint8Array): boolean {
  if (status >= 500 || status === 429 || status === 408) return false;
  if (status !== 200 && status !== 207) return true;
  const records = recordOutcomes(Buffer.from(body).toString("utf8"));
  // An answer that is not a produce answer (no records) is final like any other.
  if (records.length === 0) return true;
  return !records.every((r) => !r.ok && r.retriable);
}

interface RecordOutcome {
  ok: boolean;
  retriable: boolean;
}

/** The per-record outcomes of a v2 answer, a v3 records:batch answer or v3 streaming reports. */
export function recordOutcomes(text: string): RecordOutcome[] {
  const documents: unknown[] = [];
  try {
    documents.push(JSON.parse(text));
  } catch {
    // v3 streaming reports: one JSON object per \r\n-terminated line.
    for (const line of text.split("\r\n")) {
      if (line.trim() === "") continue;
      try {
        documents.push(JSON.parse(line));
      } catch {
        return [];
      }
    }
  }
  return documents.flatMap(outcomesOf);
}

function outcomesOf(doc: unknown): RecordOutcome[] {
  if (typeof doc !== "object" || doc === null) return [];
  const d = doc as { offsets?: unknown; successes?: unknown; failures?: unknown; error_code?: unknown };
  if (Array.isArray(d.offsets)) {
    return d.offsets.map((o: { error_code?: unknown }) => ({
      ok: o?.error_code === null || o?.error_code === undefined,
      retriable: retriableCode(o?.error_code),
    }));
  }
  if (Array.isArray(d.successes) || Array.isArray(d.failures)) {
    const successes = Array.isArray(d.successes) ? d.successes : [];
    const failures = Array.isArray(d.failures) ? d.failures : [];
    return [
      ...successes.map(() => ({ ok: true, retriable: false })),
      ...failures.map((f: { error_code?: unknown }) => ({ ok: false, retriable: retriableCode(f?.error_code) })),
    ];
  }
  if (d.error_code !== undefined) {
    return [{ ok: d.error_code === 200, retriable: retriableCode(d.error_code) }];
  }
  return [];
}
