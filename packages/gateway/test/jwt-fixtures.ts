/** Signs JWTs for tests (the gateway only verifies them). */
import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";

export type TestAlg = "RS256" | "ES256" | "HS256" | "none";

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function signJwt(
  claims: Record<string, unknown>,
  alg: TestAlg,
  key: KeyObject | string | null,
  header: Record<string, unknown> = {},
): string {
  const input = `${part({ alg, typ: "JWT", ...header })}.${part(claims)}`;
  if (alg === "none") return `${input}.`;
  let signature: Buffer;
  if (alg === "HS256")
    signature = createHmac("sha256", key as string | KeyObject)
      .update(input)
      .digest();
  else if (alg === "ES256")
    signature = sign("sha256", Buffer.from(input), { key: key as KeyObject, dsaEncoding: "ieee-p1363" });
  else signature = sign("sha256", Buffer.from(input), key as KeyObject);
  return `${input}.${signature.toString("base64url")}`;
}

export function testKeys() {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { rsa, ec, hmacSecret: "a-test-hmac-secret-that-is-32-bytes-long!" };
}

export const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;
