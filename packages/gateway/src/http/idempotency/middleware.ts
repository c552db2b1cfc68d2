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
 */
import type { Context, MiddlewareHandler } from "hono";
import {
  idempotencyKeyInFlight,
  idempotencyKeyReused,
  invalidIdempotencyKey,
  serviceUnavailable,
} from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { Metrics } from "../../metrics.ts";
import { principalOf } from "../../security/principal.ts";
import { type RequestEnv, readBodyBytes } from "../body.ts";
import { fingerprint, IDEMPOTENCY_HEADER, parseIdempotencyKey, REPLAY_HEADER, scopedKey } from "./key.ts";
import { shouldStore } from "./outcome.ts";
import { type IdempotencyStore, type StoredAnswer, StoreUnavailableError } from "./store.ts";

export interface IdempotencySettings {
  /** How long a first answer is replayed. */
  ttlMs: number;
  /** How long a repeat waits for the first request's answer before 409. */
  waitMs: number;
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
  settings: IdempotencySettings;
  maxBodyBytes: number;
  log: Logger;
  metrics: Pick<Metrics, "idempotencyRequests">;
  /**
   * The claim of a request in flight lapses this long after its node last renewed it, so keys of
   * a node that died mid-request become usable again; the holder renews it every third of that.
   */
  leaseMs?: number;
}

const DEFAULT_LEASE_MS = 10_000;
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createIdempotencyMiddleware(options: MiddlewareOptions): MiddlewareHandler {
  const { store, settings, log, metrics } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const count = (outcome: IdempotencyOutcome) => metrics.idempotencyRequests.inc({ outcome });
  const unavailable = (error: unknown) => {
    if (!(error instanceof StoreUnavailableError)) return error;
    count("unavailable");
    return serviceUnavailable("Idempotency-Key store unavailable; retry.");
  };

  return async (c, next) => {
    const header = c.req.header(IDEMPOTENCY_HEADER);
    if (header === undefined) return next();
    const parsed = parseIdempotencyKey(header);
    if (!parsed.ok) throw invalidIdempotencyKey(parsed.reason);

    const body = await readBodyBytes(c, options.maxBodyBytes);
    keepBody(c, body);
    const url = new URL(c.req.url);
    const print = fingerprint({
      method: c.req.method,
      target: url.pathname + url.search,
      contentType: c.req.header("content-type") ?? "",
      body,
    });
    const key = scopedKey(principalOf(c)?.name ?? null, parsed.key);

    let token: string;
    const deadline = Date.now() + settings.waitMs;
    for (let poll = FIRST_POLL_MS; ; poll = Math.min(poll * 2, MAX_POLL_MS)) {
      const held = await store.claim(key, print, leaseMs).catch((error) => {
        throw unavailable(error);
      });
      if (held.kind === "claimed") {
        token = held.token;
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
      store.renew(key, token, leaseMs).then(
        (kept) => kept || log.warn("idempotency claim lapsed while its request ran"),
        () => {}, // Redis away: the claim may lapse; the answer is still sent.
      );
    }, leaseMs / 3);
    renewal.unref();
    let answer: StoredAnswer;
    try {
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
        // gets 409, after it would write again. Logged, since that is a possible duplicate.
        log.warn("idempotency answer not stored", { error: (error as Error).message });
        count("unstored");
      }
    } else {
      // An unreachable store lets the claim lapse with its lease instead: same effect, later.
      await store.release(key, token).catch(() => {});
      count("released");
    }
    c.res = new Response(answer.body, { status: answer.status, headers: c.res.headers });
  };
}

/** The route reads the body again: body.ts takes it from the env, v3 streaming from raw.body. */
function keepBody(c: Context, body: Buffer): void {
  c.env = { ...((c.env as RequestEnv | undefined) ?? {}), body } satisfies RequestEnv;
  c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers: c.req.raw.headers, body });
}

function replay(answer: StoredAnswer): Response {
  const headers = new Headers({ [REPLAY_HEADER]: "true" });
  if (answer.contentType) headers.set("content-type", answer.contentType);
  return new Response(answer.body, { status: answer.status, headers });
}
