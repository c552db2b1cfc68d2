/**
 * The record header that names which keyed request wrote a record: `wharf-idempotency:
 * <claim id>/<index>`, the claim (store.ts) and the record's position in the request (v2: in
 * `records`, v3: in the stream or in `entries`). A node that takes over an orphaned claim finds
 * with it what the dead holder already wrote (recovery.ts). Unkeyed requests carry none.
 */

export const CLAIM_HEADER = "wharf-idempotency";

/**
 * A string, not a Buffer: the binding copies it straight into librdkafka's header (measured with
 * loadtest/binding-cost.ts: a Buffer per record cost about 1 µs more of JS thread per record).
 */
export const claimHeaderValue = (claim: string, index: number): string => `${claim}/${index}`;

export function parseClaimHeader(value: Buffer | string): { claim: string; index: number } | null {
  const text = typeof value === "string" ? value : value.toString("latin1");
  const slash = text.lastIndexOf("/");
  if (slash <= 0) return null;
  const index = Number(text.slice(slash + 1));
  if (!Number.isSafeInteger(index) || index < 0) return null;
  return { claim: text.slice(0, slash), index };
}
