/**
 * Where idempotency keys live: in memory on a lone node, in Redis for a cluster. A key is first
 * claimed (in flight, with a short lease its holder renews), then either completed with the first
 * answer (kept for the TTL) or released so that a retry does the work.
 *
 * A claim whose holder stopped renewing (its node died mid-request) is not dropped: it stays for
 * the TTL, and the next claim with the same fingerprint takes it over and is told the claims
 * before it, whose records may already be in Kafka (see recovery.ts).
 */

/** An answer as it is replayed: status, content type and body bytes. */
export interface StoredAnswer {
  status: number;
  contentType: string | null;
  body: Uint8Array;
}

/** An earlier claim of a key whose holder stopped renewing it before it answered. */
export interface PriorClaim {
  /** The claim's token, which its records carry (record-header.ts). */
  id: string;
  /** When it was claimed, in the store's clock (ms since the epoch). */
  claimedAt: number;
}

export type ClaimResult =
  /**
   * This request holds the key now; `token` proves it to complete, release and renew, and names
   * its records in Kafka. `prior`: the orphaned claims it took over, oldest first (empty when
   * the key was free).
   */
  | {
      kind: "claimed";
      token: string;
      prior: PriorClaim[];
      /**
       * performance.now() when the try that took the claim was sent, when the store tried more
       * than once (waiting out a failover): the holder's lease counts from it. Absent: from the call.
       */
      triedAt?: number;
    }
  /** Another request holds it and has not answered yet. */
  | { kind: "in-flight"; fingerprint: string }
  /** A first answer is stored. */
  | { kind: "done"; fingerprint: string; answer: StoredAnswer };

export interface IdempotencyStore {
  /**
   * Claims `key` for a request with `fingerprint`, or tells what holds it. The claim is held for
   * `leaseMs` unless renewed; the entry itself is kept for `ttlMs`, so a lapsed claim can be
   * taken over by the next request with the same fingerprint.
   */
  claim(key: string, fingerprint: string, leaseMs: number, ttlMs: number): Promise<ClaimResult>;
  /** Extends a claim still held; false when it was lost (lapsed or taken). */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Replaces a claim still held by the answer, kept for `ttlMs`; false when the claim was lost. */
  complete(key: string, token: string, fingerprint: string, answer: StoredAnswer, ttlMs: number): Promise<boolean>;
  /**
   * Gives up a claim still held, so the next request with the key does the work. A claim that
   * took over others only lapses (kept, with its own id added to the chain by the next claim):
   * their records may be in Kafka, and the next request must look for them.
   */
  release(key: string, token: string): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when the store cannot be reached: the keyed request is refused as retriable. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

/**
 * Thrown by claim when the replicas the deployment asks for (idempotency.redis.min.replicas) did
 * not confirm the claim in time: a failover could lose it, so the request writes nothing.
 */
export class StoreNotReplicatedError extends StoreUnavailableError {
  override name = "StoreNotReplicatedError";
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

/** Prior claims as the Redis store keeps them in one value: `id@claimedAt`, comma-separated, oldest first. */
export function decodePrior(text: string): PriorClaim[] {
  if (text === "") return [];
  return text.split(",").map((entry) => {
    const at = entry.lastIndexOf("@");
    return { id: entry.slice(0, at), claimedAt: Number(entry.slice(at + 1)) };
  });
}
