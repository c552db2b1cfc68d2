/**
 * Where idempotency keys live: in memory on a lone node, in Redis for a cluster. A key is first
 * claimed (in flight, with a short lease its holder renews), then either completed with the first
 * answer (kept for the TTL) or released so that a retry does the work.
 */

/** An answer as it is replayed: status, content type and body bytes. */
export interface StoredAnswer {
  status: number;
  contentType: string | null;
  body: Uint8Array;
}

export type ClaimResult =
  /** This request holds the key now; `token` proves it to complete, release and renew. */
  | { kind: "claimed"; token: string }
  /** Another request holds it and has not answered yet. */
  | { kind: "in-flight"; fingerprint: string }
  /** A first answer is stored. */
  | { kind: "done"; fingerprint: string; answer: StoredAnswer };

export interface IdempotencyStore {
  /** Claims `key` for a request with `fingerprint`, or tells what holds it. */
  claim(key: string, fingerprint: string, leaseMs: number): Promise<ClaimResult>;
  /** Extends a claim still held; false when it was lost (lapsed or taken). */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Replaces a claim still held by the answer, kept for `ttlMs`; false when the claim was lost. */
  complete(key: string, token: string, fingerprint: string, answer: StoredAnswer, ttlMs: number): Promise<boolean>;
  /** Gives up a claim still held, so the next request with the key does the work. */
  release(key: string, token: string): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when the store cannot be reached: the keyed request is refused as retriable. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

/** How both stores write a completed entry: one string, so Redis holds it under one key. */
export function encodeDone(fingerprint: string, answer: StoredAnswer): string {
  return JSON.stringify({
    f: fingerprint,
    s: answer.status,
    t: answer.contentType,
    b: Buffer.from(answer.body).toString("base64"),
  });
}

export function decodeDone(text: string): { fingerprint: string; answer: StoredAnswer } {
  const v = JSON.parse(text) as { f: string; s: number; t: string | null; b: string };
  return { fingerprint: v.f, answer: { status: v.s, contentType: v.t, body: Buffer.from(v.b, "base64") } };
}
