/**
 * Idempotency-Key on produce routes (IETF httpapi idempotency-key draft). Without the header a
 * request passes untouched. With it, the request is identified by its key (per principal) and
 * fingerprinted (method, path, content type, body); then:
 *   - the first request claims the key, runs, and its answer is stored (see outcome.ts for which
 *     answers are) or the key released;
 *   - a repeat gets the stored answer again, marked `Idempotent-Replayed: true`, writing nothing;
 *   - a repeat while the first is in flight waits up to idempotency.wait.ms for its answer, then
 *     gets 409 / 40904; the same key for another request gets 422 / 42209;
 *   - when the store is unreachable, keyed requests get 503 (retriable), unkeyed ones never notice.
 * The body is read whole before the route runs, so a keyed v3 streaming request is one unit: its
 * reports all come at the end, and are replayed together.
 *
 * A claim whose node died mid-request is taken over by the next request with the key (store.ts):
 * before the route runs, the records the dead node already wrote are looked up in Kafka
 * (recovery.ts), and the route writes only the others (writes.ts). A record librdkafka reports
 * delivered without an offset is looked up the same way before it is answered (writes.ts).
 *
 * A lease cannot tell a dead node from a paused one (SIGSTOP, a VM frozen, a long stall), so the
 * holder fences itself and the store waits for what it may have queued:
 *   - the holder hands records to librdkafka only while a monotonic deadline holds: when its last
 *     successful claim or renewal was *sent*, plus idempotency.lease.ms, minus a margin; checked
 *     synchronously right before each send (writes.ts). A node that wakes up later writes nothing.
 *   - the store keeps the claim for the lease plus idempotency.settleMs (the producer's
 *     message.timeout.ms and a margin) after each renewal: a record handed to librdkafka before the
 *     deadline has been delivered or timed out by then (librdkafka times out queued records before
 *     it sends them again after a pause), so the retry that takes over finds it in Kafka or never.
 * What stays open is in loadtest/FAULTS.md ("idem-harden").
 */
import type { Context, MiddlewareHandler } from "hono";
import {
  idempotencyClaimLapsed,
  idempotencyClaimUnreplicated,
  idempotencyKeyInFlight,
  idempotencyKeyReused,
  invalidIdempotencyKey,
  serviceUnavailable,
} from "../../errors.ts";
import type { DeliveryResult } from "../../kafka/producer-pool.ts";
import type { Logger } from "../../log.ts";
import type { Metrics } from "../../metrics.ts";
import { principalOf } from "../../security/principal.ts";
import { type RequestEnv, readBodyBytes } from "../body.ts";
import { fingerprint, IDEMPOTENCY_HEADER, parseIdempotencyKey, REPLAY_HEADER, scopedKey } from "./key.ts";
import { shouldStore } from "./outcome.ts";
import type { Recovery } from "./recovery.ts";
import {
  type IdempotencyStore,
  type PriorClaim,
  type StoredAnswer,
  StoreNotReplicatedError,
  StoreUnavailableError,
} from "./store.ts";
import type { KeyedWrites } from "./writes.ts";

export interface IdempotencySettings {
  /** How long a first answer is replayed. */
  ttlMs: number;
  /** How long a repeat waits for the first request's answer before 409. */
  waitMs: number;
  /** How long after its last renewal a holder may still write; it renews every third of this. */
  leaseMs: number;
  /** How much longer the store keeps the claim from anyone else (config.ts, idempotency.settleMs). */
  settleMs: number;
}

/**
 * stored / released: a first request ran and its answer was kept / not kept; replayed, mismatch
 * (422), in_flight (409): repeats; unavailable: refused with 503 (store unreachable); unstored:
 * the answer could not be stored after the records were written.
 */
export type IdempotencyOutcome =
  | "stored"
  | "released"
  | "replayed"
  | "mismatch"
  | "in_flight"
  | "unavailable"
  | "unstored";

export interface MiddlewareOptions {
  store: IdempotencyStore;
  /** Finds what an orphaned claim's holder wrote, for the request that took it over. */
  recovery: Recovery;
  settings: IdempotencySettings;
  maxBodyBytes: number;
  log: Logger;
  metrics: Pick<
    Metrics,
    "idempotencyRequests" | "idempotencyRecoveries" | "idempotencyUnconfirmed" | "idempotencyFenced"
  >;
  /** Monotonic ms (performance.now()); tests move it. */
  now?: () => number;
  /** Tests only: see KeyedWrites.hold. */
  holdWrite?: () => Promise<void>;
}

/** The part of the lease a holder does not use: clock jitter between it and the store. */
const leaseMargin = (leaseMs: number) => Math.min(1000, leaseMs / 5);
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createIdempotencyMiddleware(options: MiddlewareOptions): MiddlewareHandler {
  const { store, recovery, settings, log, metrics } = options;
  const { leaseMs } = settings;
  /** What the store holds a claim for: the lease the holder uses, then time for its records to settle. */
  const heldMs = leaseMs + settings.settleMs;
  const usableMs = leaseMs - leaseMargin(leaseMs);
  const now = options.now ?? (() => performance.now());
  const count = (outcome: IdempotencyOutcome) => metrics.idempotencyRequests.inc({ outcome });
  const unavailable = (error: unknown) => {
    if (!(error instanceof StoreUnavailableError)) return error;
    count("unavailable");
    if (error instanceof StoreNotReplicatedError) return idempotencyClaimUnreplicated();
    return serviceUnavailable("Idempotency-Key store unavailable; retry.");
  };

  const recover = async (topic: string, prior: PriorClaim[]) => {
    let found: KeyedWrites["found"];
    try {
      found = await recovery.find(topic, prior);
    } catch (error) {
      metrics.idempotencyRecoveries.inc({ result: "refused" });
      log.warn("idempotency claim taken over; its records could not be looked up", {
        error: (error as Error).message,
      });
      throw error;
    }
    metrics.idempotencyRecoveries.inc({ result: found.size > 0 ? "found" : "none" });
    log.info("idempotency claim taken over", { prior: prior.length, found: found.size });
    return found;
  };

  const confirmFor =
    (claim: string): KeyedWrites["confirm"] =>
    async (topic, wanted, since) => {
      let found: ReadonlyMap<number, DeliveryResult>;
      try {
        found = await recovery.confirm(topic, claim, wanted, since);
      } catch (error) {
        metrics.idempotencyUnconfirmed.inc({ result: "refused" }, wanted.length);
        log.warn("records delivered without an offset could not be looked up; answered 50003", {
          records: wanted.length,
          error: (error as Error).message,
        });
        throw error;
      }
      const hits = wanted.filter((w) => found.has(w.index)).length;
      if (hits > 0) metrics.idempotencyUnconfirmed.inc({ result: "found" }, hits);
      if (hits < wanted.length) metrics.idempotencyUnconfirmed.inc({ result: "none" }, wanted.length - hits);
      log.info("records delivered without an offset looked up", { records: wanted.length, found: hits });
      return found;
    };

  return async (c, next) => {
    const header = c.req.header(IDEMPOTENCY_HEADER);
    if (header === undefined) return next();
    const parsed = parseIdempotencyKey(header);
    if (!parsed.ok) throw invalidIdempotencyKey(parsed.reason);

    const body = await readBodyBytes(c, options.maxBodyBytes);
    const print = fingerprint({
      method: c.req.method,
      target: targetOf(c.req.url),
      contentType: c.req.header("content-type") ?? "",
      body,
    });
    const key = scopedKey(principalOf(c)?.name ?? null, parsed.key);

    let token: string;
    let prior: PriorClaim[];
    /** Until when (now()) this request may hand records to librdkafka; -Infinity once the claim is lost. */
    let writableUntil: number;
    const deadline = Date.now() + settings.waitMs;
    for (let poll = FIRST_POLL_MS; ; poll = Math.min(poll * 2, MAX_POLL_MS)) {
      const sentAt = now();
      const held = await store.claim(key, print, heldMs, settings.ttlMs).catch((error) => {
        throw unavailable(error);
      });
      if (held.kind === "claimed") {
        token = held.token;
        prior = held.prior;
        writableUntil = (held.triedAt ?? sentAt) + usableMs;
        break;
      }
      if (held.fingerprint !== print) {
        count("mismatch");
        throw idempotencyKeyReused();
      }
      if (held.kind === "done") {
        count("replayed");
        return replay(held.answer);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        count("in_flight");
        throw idempotencyKeyInFlight();
      }
      await sleep(Math.min(poll, left));
    }

    const renewal = setInterval(() => {
      // The send time, not the reply's: the store extended the lease from some moment after it.
      const sentAt = now();
      store.renew(key, token, heldMs).then(
        (kept) => {
          if (kept) {
            writableUntil = Math.max(writableUntil, sentAt + usableMs);
            return;
          }
          writableUntil = Number.NEGATIVE_INFINITY;
          log.warn("idempotency claim lapsed while its request ran");
        },
        () => {}, // Redis away: the claim may lapse, and then nothing more is written (fence).
      );
    }, leaseMs / 3);
    renewal.unref();
    const fence = () => {
      if (now() < writableUntil) return;
      metrics.idempotencyFenced.inc();
      log.warn("keyed send refused: its Idempotency-Key claim could not be shown to be held");
      throw idempotencyClaimLapsed();
    };
    let answer: StoredAnswer;
    try {
      const found = prior.length > 0 ? await recover(c.req.param("topic") ?? "", prior) : NOTHING_FOUND;
      const writes: KeyedWrites = { claim: token, found, confirm: confirmFor(token), fence };
      if (options.holdWrite) writes.hold = options.holdWrite;
      keepBody(c, body, writes);
      await next();
      answer = {
        status: c.res.status,
        contentType: c.res.headers.get("content-type"),
        body: new Uint8Array(await c.res.arrayBuffer()),
      };
    } catch (error) {
      clearInterval(renewal);
      await store.release(key, token).catch(() => {});
      count("released");
      throw error;
    }
    clearInterval(renewal);

    if (shouldStore(answer.status, answer.body)) {
      try {
        const kept = await store.complete(key, token, print, answer, settings.ttlMs);
        if (!kept) log.warn("idempotency claim lapsed before the answer was stored", { status: answer.status });
        count("stored");
      } catch (error) {
        // The records are written and the client deserves its answer; a retry within the lease
        // gets 409, after it takes the claim over and finds the records in Kafka (recovery.ts).
        log.warn("idempotency answer not stored", { error: (error as Error).message });
        count("unstored");
      }
    } else {
      // An unreachable store lets the claim lapse with its lease instead: same effect, later.
      await store.release(key, token).catch(() => {});
      count("released");
    }
    const headers = c.res.headers;
    // Cleared first: hono's setter would otherwise rebuild the new response around a stream of
    // its body, which the node adapter then writes chunk by chunk (measured: about half the
    // throughput of a keyed one-record produce). A byte body is written in one go.
    c.res = undefined;
    c.res = new Response(answer.body, { status: answer.status, headers });
  };
}

const NOTHING_FOUND: KeyedWrites["found"] = new Map();

/**
 * The route reads the body again from the env (body.ts, and v3 streaming produce); a new fetch
 * Request carrying it would cost more than the rest of the middleware. `writes` tells it how to
 * send the records (writes.ts).
 */
function keepBody(c: Context, body: Buffer, writes: KeyedWrites): void {
  c.env = { ...((c.env as RequestEnv | undefined) ?? {}), body, writes } satisfies RequestEnv;
}

/** Path and query of an absolute request URL, without the cost of parsing it whole. */
function targetOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  return start < 0 ? "/" : url.slice(start);
}

function replay(answer: StoredAnswer): Response {
  const headers = new Headers({ [REPLAY_HEADER]: "true" });
  if (answer.contentType) headers.set("content-type", answer.contentType);
  return new Response(answer.body, { status: answer.status, headers });
}
