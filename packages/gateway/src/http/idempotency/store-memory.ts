/**
 * Idempotency keys of a lone node, in a Map bounded by bytes. Entries are kept in the order they
 * were last written, so the oldest answers are the first to expire or be evicted; a key in flight
 * is never evicted (that would let a duplicate write), and there are only as many as requests.
 */
import { randomUUID } from "node:crypto";
import type { ClaimResult, IdempotencyStore, PriorClaim, StoredAnswer } from "./store.ts";

type Entry =
  | {
      state: "pending";
      token: string;
      fingerprint: string;
      /** The claim is held until then; after it the next claim with the fingerprint takes over. */
      leaseUntil: number;
      claimedAt: number;
      prior: PriorClaim[];
      expiresAt: number;
    }
  | { state: "done"; fingerprint: string; answer: StoredAnswer; expiresAt: number; bytes: number };

/** Map and bookkeeping overhead of one entry, so tiny answers count too. */
const ENTRY_OVERHEAD_BYTES = 200;

export interface MemoryStoreOptions {
  maxBytes: number;
  now?: () => number;
}

export function createMemoryStore({ maxBytes, now = Date.now }: MemoryStoreOptions): IdempotencyStore & {
  readonly bytes: number;
  readonly size: number;
} {
  const entries = new Map<string, Entry>();
  let bytes = 0;

  const remove = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    if (entry.state === "done") bytes -= entry.bytes;
  };
  const live = (key: string): Entry | null => {
    const entry = entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt > now()) return entry;
    remove(key);
    return null;
  };
  /** Drops expired entries from the old end; amortised over the claims that add new ones. */
  const sweep = () => {
    const at = now();
    for (const [key, entry] of entries) {
      if (entry.expiresAt > at) break;
      remove(key);
    }
  };
  const evict = (keep: string) => {
    for (const [key, entry] of entries) {
      if (bytes <= maxBytes) return;
      if (key !== keep && entry.state === "done") remove(key);
    }
  };
  const held = (key: string, token: string) => {
    const entry = live(key);
    return entry?.state === "pending" && entry.token === token ? entry : null;
  };

  return {
    get bytes() {
      return bytes;
    },
    get size() {
      return entries.size;
    },
    async claim(key, fingerprint, leaseMs, ttlMs): Promise<ClaimResult> {
      sweep();
      const entry = live(key);
      if (entry?.state === "done") return { kind: "done", fingerprint: entry.fingerprint, answer: entry.answer };
      const at = now();
      let prior: PriorClaim[] = [];
      if (entry?.state === "pending") {
        if (entry.fingerprint !== fingerprint || entry.leaseUntil > at) {
          return { kind: "in-flight", fingerprint: entry.fingerprint };
        }
        prior = [...entry.prior, { id: entry.token, claimedAt: entry.claimedAt }];
        entries.delete(key);
      }
      const token = randomUUID();
      entries.set(key, {
        state: "pending",
        token,
        fingerprint,
        leaseUntil: at + leaseMs,
        claimedAt: at,
        prior,
        expiresAt: at + ttlMs,
      });
      return { kind: "claimed", token, prior };
    },
    async renew(key, token, leaseMs) {
      const entry = held(key, token);
      if (!entry) return false;
      entry.leaseUntil = now() + leaseMs;
      return true;
    },
    async complete(key, token, fingerprint, answer, ttlMs) {
      if (!held(key, token)) return false;
      entries.delete(key);
      const size = answer.body.byteLength + key.length + ENTRY_OVERHEAD_BYTES;
      entries.set(key, { state: "done", fingerprint, answer, expiresAt: now() + ttlMs, bytes: size });
      bytes += size;
      evict(key);
      return true;
    },
    async release(key, token) {
      const entry = held(key, token);
      if (!entry) return;
      if (entry.prior.length === 0) remove(key);
      else entry.leaseUntil = 0;
    },
    async close() {
      entries.clear();
      bytes = 0;
    },
  };
}
