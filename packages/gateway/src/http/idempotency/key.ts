/**
 * The Idempotency-Key header (IETF httpapi draft, -06): an RFC 8941 sf-string, e.g.
 * `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`, and the fingerprint of the request
 * it names.
 */
import { createHash } from "node:crypto";

export const IDEMPOTENCY_HEADER = "idempotency-key";
/** Set on an answer that is a stored first answer sent again (the name Stripe's clients know). */
export const REPLAY_HEADER = "idempotent-replayed";
/** Longer keys are refused: they are stored with every answer, and no generator needs more. */
export const MAX_KEY_LENGTH = 255;

export type ParsedKey = { ok: true; key: string } | { ok: false; reason: string };

/**
 * Parses an sf-string (RFC 8941 §3.3.3): DQUOTE, printable ASCII with only `\"` and `\\` escaped,
 * DQUOTE. Parameters after the string are allowed by structured fields and ignored here.
 */
export function parseIdempotencyKey(raw: string): ParsedKey {
  const value = raw.trim();
  if (!value.startsWith('"')) {
    return { ok: false, reason: 'it must be a quoted string, e.g. Idempotency-Key: "8e03978e-40d5-43e8"' };
  }
  let key = "";
  let i = 1;
  for (; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (ch === 0x5c) {
      const next = value[i + 1];
      if (next !== '"' && next !== "\\") return { ok: false, reason: 'only \\" and \\\\ may be escaped' };
      key += next;
      i++;
      continue;
    }
    if (ch === 0x22) break;
    if (ch < 0x20 || ch > 0x7e) return { ok: false, reason: "only printable ASCII characters are allowed" };
    key += value[i];
  }
  if (i >= value.length) return { ok: false, reason: "the closing quote is missing" };
  const rest = value.slice(i + 1);
  if (rest !== "" && !rest.startsWith(";")) return { ok: false, reason: "nothing may follow the quoted string" };
  if (key.length === 0) return { ok: false, reason: "the key is empty" };
  if (key.length > MAX_KEY_LENGTH) return { ok: false, reason: `the key is longer than ${MAX_KEY_LENGTH} characters` };
  return { ok: true, key };
}

export interface RequestIdentity {
  method: string;
  /** Path and query string. */
  target: string;
  contentType: string;
  body: Uint8Array;
}

/**
 * What makes two requests "the same request" for the draft: method, target, content type and
 * body bytes. Fields are length-prefixed so no two different requests share a fingerprint by
 * moving bytes from one field to the next.
 */
export function fingerprint(request: RequestIdentity): string {
  const hash = createHash("sha256");
  for (const field of [request.method.toUpperCase(), request.target, normalizeType(request.contentType)]) {
    hash.update(`${Buffer.byteLength(field)}:${field}\n`);
  }
  hash.update(`${request.body.byteLength}:`);
  hash.update(request.body);
  return hash.digest("base64url");
}

/** `Application/JSON; charset=utf-8` and `application/json;charset=UTF-8` are one content type. */
function normalizeType(type: string): string {
  return type
    .split(";")
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== "")
    .join(";");
}

/**
 * The store's name for a key: scoped to the principal (two users' equal keys never meet) and
 * hashed, so a key's characters never reach Redis key syntax or hash tags.
 */
export function scopedKey(principal: string | null, key: string): string {
  const hash = createHash("sha256")
    .update(principal === null ? "-" : `p:${principal}`)
    .update("\n")
    .update(key)
    .digest("base64url");
  return hash;
}
