/**
 * JWT bearer tokens (RFC 7519), verified with node:crypto alone: RS256, ES256 and HS256 against
 * configured keys (PEM public keys, an HMAC secret, or a JWKS file), then issuer, audience,
 * expiry and not-before with a clock skew.
 *
 * Each key is bound to one algorithm family, and a token's `alg` must match its key's family: an
 * RSA public key can never be used as an HMAC secret (the classic algorithm-confusion attack), and
 * `alg: none` matches no key at all.
 */
import { createHmac, createPublicKey, createSecretKey, type KeyObject, timingSafeEqual, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { unauthenticated } from "../../errors.ts";
import type { Principal } from "../principal.ts";
import type { Authenticator } from "./types.ts";

type Family = "HS" | "RS" | "ES";

export interface JwtKey {
  kid: string | null;
  family: Family;
  key: KeyObject;
}

export interface JwtSettings {
  /** Keys given directly (PEM files, an HMAC secret). */
  keys: JwtKey[];
  /** A JWKS file, read at start-up and again (at most every 30 s) when a token names an unknown kid. */
  jwksFile: string | null;
  issuer: string | null;
  audience: string | null;
  clockSkewMs: number;
  principalClaim: string;
  groupsClaim: string;
}

const ALGORITHMS: Record<string, Family> = { HS256: "HS", RS256: "RS", ES256: "ES" };
const JWKS_RELOAD_MS = 30_000;

export class JwtError extends Error {
  override name = "JwtError";
}

function familyOf(key: KeyObject): Family {
  if (key.type === "secret") return "HS";
  if (key.asymmetricKeyType === "rsa") return "RS";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES";
  throw new JwtError(`unsupported key type ${key.asymmetricKeyType ?? key.type} (RSA, EC P-256 or HMAC)`);
}

/** Every PEM block of a file (public keys or certificates) as a verification key. */
export function keysFromPem(text: string): JwtKey[] {
  const blocks = text.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
  if (blocks.length === 0) throw new JwtError("no PEM block found");
  return blocks.map((block) => {
    const key = createPublicKey(block);
    return { kid: null, family: familyOf(key), key };
  });
}

export function keyFromSecret(secret: string): JwtKey {
  // RFC 7518 3.2: an HS256 key must be at least as long as the hash output.
  if (Buffer.byteLength(secret) < 32) throw new JwtError("an HS256 secret must be at least 32 bytes");
  return { kid: null, family: "HS", key: createSecretKey(Buffer.from(secret)) };
}

export function keysFromJwks(jwks: unknown): JwtKey[] {
  const list = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) throw new JwtError('a JWKS must be an object with a "keys" array');
  const out: JwtKey[] = [];
  for (const jwk of list as Record<string, unknown>[]) {
    if (typeof jwk !== "object" || jwk === null) continue;
    if (jwk.use !== undefined && jwk.use !== "sig") continue;
    if (typeof jwk.alg === "string" && !(jwk.alg in ALGORITHMS)) continue;
    const kid = typeof jwk.kid === "string" ? jwk.kid : null;
    const key =
      jwk.kty === "oct"
        ? createSecretKey(Buffer.from(String(jwk.k ?? ""), "base64url"))
        : createPublicKey({ key: jwk as never, format: "jwk" });
    const family = familyOf(key);
    if (typeof jwk.alg === "string" && ALGORITHMS[jwk.alg] !== family) continue;
    out.push({ kid, family, key });
  }
  return out;
}

function decodePart(part: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error();
    return value as Record<string, unknown>;
  } catch {
    throw new JwtError(`malformed ${what}`);
  }
}

function signatureValid(family: Family, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  try {
    return checkSignature(family, key, input, signature);
  } catch {
    return false;
  }
}

function checkSignature(family: Family, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  if (family === "HS") {
    const expected = createHmac("sha256", key).update(input).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  if (family === "ES") {
    // JWS carries ES256 signatures as r||s (IEEE P1363), not DER.
    return signature.length === 64 && verify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, signature);
  }
  return verify("sha256", input, key, signature);
}

/** The verified claims of `token`; throws a JwtError saying what is wrong. */
export function verifyJwt(
  token: string,
  keys: JwtKey[],
  settings: Pick<JwtSettings, "issuer" | "audience" | "clockSkewMs">,
  now = Date.now(),
): Record<string, unknown> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new JwtError("not a compact JWS");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodePart(headerPart, "header");
  const family = typeof header.alg === "string" ? ALGORITHMS[header.alg] : undefined;
  if (!family) throw new JwtError(`algorithm ${String(header.alg)} is not accepted`);
  if (header.crit !== undefined) throw new JwtError("critical header extensions are not supported");
  const kid = typeof header.kid === "string" ? header.kid : null;
  const candidates = keys.filter((k) => k.family === family && (kid === null || k.kid === null || k.kid === kid));
  if (candidates.length === 0) throw new JwtError("no key for this token");
  const input = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, "base64url");
  if (!candidates.some((k) => signatureValid(family, k.key, input, signature))) {
    throw new JwtError("signature does not verify");
  }

  const claims = decodePart(payloadPart, "payload");
  const skew = settings.clockSkewMs;
  if (typeof claims.exp !== "number") throw new JwtError("token has no exp");
  if (now - skew >= claims.exp * 1000) throw new JwtError("token expired");
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || now + skew < claims.nbf * 1000)) {
    throw new JwtError("token not valid yet");
  }
  if (settings.issuer !== null && claims.iss !== settings.issuer) throw new JwtError("wrong issuer");
  if (settings.audience !== null) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(settings.audience)) throw new JwtError("wrong audience");
  }
  return claims;
}

function groupsFrom(value: unknown): string[] {
  if (typeof value === "string") return value.split(/[\s,]+/).filter((g) => g !== "");
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === "string");
  return [];
}

export function readJwks(file: string): JwtKey[] {
  return keysFromJwks(JSON.parse(readFileSync(file, "utf8")));
}

export function jwtAuthenticator(settings: JwtSettings, realm: string): Authenticator {
  let jwksKeys = settings.jwksFile ? readJwks(settings.jwksFile) : [];
  let lastReload = Date.now();
  const reloadJwks = () => {
    if (!settings.jwksFile || Date.now() - lastReload < JWKS_RELOAD_MS) return false;
    lastReload = Date.now();
    try {
      jwksKeys = readJwks(settings.jwksFile);
      return true;
    } catch {
      return false; // Keep the keys we have; the file may be mid-rotation.
    }
  };
  const challenge = `Bearer realm="${realm}"`;
  return {
    challenge,
    async authenticate(request): Promise<Principal | null> {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.header("authorization") ?? "");
      if (!match) return null;
      const token = match[1] as string;
      let claims: Record<string, unknown>;
      try {
        try {
          claims = verifyJwt(token, [...settings.keys, ...jwksKeys], settings);
        } catch (error) {
          if (!(error instanceof JwtError) || error.message !== "no key for this token" || !reloadJwks()) throw error;
          claims = verifyJwt(token, [...settings.keys, ...jwksKeys], settings);
        }
      } catch (error) {
        const reason = error instanceof JwtError ? error.message : "invalid token";
        throw unauthenticated(
          `Authentication error: invalid bearer token (${reason}).`,
          `${challenge}, error="invalid_token"`,
        );
      }
      const name = claims[settings.principalClaim];
      if (typeof name !== "string" || name === "") {
        throw unauthenticated(
          `Authentication error: token has no "${settings.principalClaim}" claim.`,
          `${challenge}, error="invalid_token"`,
        );
      }
      return { name, groups: groupsFrom(claims[settings.groupsClaim]), method: "jwt" };
    },
  };
}
