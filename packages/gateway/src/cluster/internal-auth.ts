/**
 * Authenticates node-to-node requests with an HMAC over the request line, a timestamp and the
 * body, keyed by the cluster secret. A request without a valid signature is refused.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-wharf-signature";
export const TIMESTAMP_HEADER = "x-wharf-timestamp";
/** How far a signed request's clock may be from ours; bounds replay of a captured request. */
const MAX_SKEW_MS = 30_000;

function digest(
  secret: string,
  timestamp: string,
  method: string,
  pathAndQuery: string,
  body: Uint8Array,
  principal?: string,
): string {
  const bodyHash = createHash("sha256").update(body).digest("hex");
  // The principal a forwarding node vouches for is signed too, so it can be neither forged nor
  // stripped; without one the digest is the same as before principals existed.
  const signed = `${timestamp}\n${method}\n${pathAndQuery}\n${bodyHash}${principal ? `\n${principal}` : ""}`;
  return createHmac("sha256", secret).update(signed).digest("hex");
}

/** `principal` is the encoded value of the x-wharf-principal header sent with the request. */
export function signRequest(
  secret: string,
  method: string,
  pathAndQuery: string,
  body: Uint8Array,
  principal?: string,
) {
  const timestamp = String(Date.now());
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: digest(secret, timestamp, method, pathAndQuery, body, principal),
  };
}

export function verifyRequest(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined; principal?: string | undefined },
  method: string,
  pathAndQuery: string,
  body: Uint8Array,
  now = Date.now(),
): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || !/^\d{1,15}$/.test(timestamp)) return false;
  if (Math.abs(now - Number(timestamp)) > MAX_SKEW_MS) return false;
  const expected = Buffer.from(digest(secret, timestamp, method, pathAndQuery, body, headers.principal), "hex");
  const given = Buffer.from(signature, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
