import { describe, expect, it } from "vitest";
import { inSeconds, signJwt, testKeys } from "../../../test/jwt-fixtures.ts";
import { JwtError, keyFromSecret, keysFromJwks, keysFromPem, verifyJwt } from "./jwt.ts";

const { rsa, ec, hmacSecret } = testKeys();
const rsaPem = rsa.publicKey.export({ type: "spki", format: "pem" }) as string;
const ecPem = ec.publicKey.export({ type: "spki", format: "pem" }) as string;
const keys = [...keysFromPem(rsaPem + ecPem), keyFromSecret(hmacSecret)];
const settings = { issuer: "https://issuer.test", audience: "wharf", clockSkewMs: 30_000 };
const claims = (extra: Record<string, unknown> = {}) => ({
  sub: "alice",
  iss: settings.issuer,
  aud: ["other", "wharf"],
  exp: inSeconds(60),
  ...extra,
});
const reason = (fn: () => unknown) => {
  try {
    fn();
    return "accepted";
  } catch (error) {
    expect(error).toBeInstanceOf(JwtError);
    return (error as Error).message;
  }
};

describe("verifyJwt", () => {
  it("accepts RS256, ES256 and HS256 tokens signed with configured keys", () => {
    expect(verifyJwt(signJwt(claims(), "RS256", rsa.privateKey), keys, settings).sub).toBe("alice");
    expect(verifyJwt(signJwt(claims(), "ES256", ec.privateKey), keys, settings).sub).toBe("alice");
    expect(verifyJwt(signJwt(claims(), "HS256", hmacSecret), keys, settings).sub).toBe("alice");
  });

  it("refuses forged, unsigned and algorithm-confused tokens", () => {
    const other = testKeys();
    expect(reason(() => verifyJwt(signJwt(claims(), "RS256", other.rsa.privateKey), keys, settings))).toBe(
      "signature does not verify",
    );
    expect(reason(() => verifyJwt(signJwt(claims(), "none", null), keys, settings))).toMatch(/not accepted/);
    // HS256 "signed" with the RSA public key as secret must not verify against the RSA key.
    expect(reason(() => verifyJwt(signJwt(claims(), "HS256", rsaPem), keys, settings))).toBe(
      "signature does not verify",
    );
    const token = signJwt(claims(), "RS256", rsa.privateKey);
    const tampered = token.replace(
      /\.[^.]+\./,
      `.${Buffer.from(JSON.stringify(claims({ sub: "root" }))).toString("base64url")}.`,
    );
    expect(reason(() => verifyJwt(tampered, keys, settings))).toBe("signature does not verify");
    expect(reason(() => verifyJwt("a.b", keys, settings))).toBe("not a compact JWS");
    expect(reason(() => verifyJwt("e30.e30.", keys, settings))).toMatch(/not accepted/);
  });

  it("checks expiry, not-before, issuer and audience with the clock skew", () => {
    const now = Date.now();
    const sign = (extra: Record<string, unknown>) => signJwt(claims(extra), "ES256", ec.privateKey);
    expect(reason(() => verifyJwt(sign({ exp: undefined }), keys, settings))).toBe("token has no exp");
    expect(reason(() => verifyJwt(sign({ exp: Math.floor(now / 1000) - 10 }), keys, settings, now))).toBe("accepted");
    expect(reason(() => verifyJwt(sign({ exp: Math.floor(now / 1000) - 40 }), keys, settings, now))).toBe(
      "token expired",
    );
    expect(reason(() => verifyJwt(sign({ nbf: Math.floor(now / 1000) + 20 }), keys, settings, now))).toBe("accepted");
    expect(reason(() => verifyJwt(sign({ nbf: Math.floor(now / 1000) + 60 }), keys, settings, now))).toBe(
      "token not valid yet",
    );
    expect(reason(() => verifyJwt(sign({ iss: "https://evil.test" }), keys, settings))).toBe("wrong issuer");
    expect(reason(() => verifyJwt(sign({ aud: "other" }), keys, settings))).toBe("wrong audience");
  });

  it("selects JWKS keys by kid and refuses short HMAC secrets", () => {
    const jwks = {
      keys: [
        { ...(ec.publicKey.export({ format: "jwk" }) as object), kid: "ec-1", use: "sig", alg: "ES256" },
        { ...(rsa.publicKey.export({ format: "jwk" }) as object), kid: "rsa-1", alg: "RS256" },
        { kty: "oct", k: Buffer.from(hmacSecret).toString("base64url"), kid: "hs-1" },
        { ...(rsa.publicKey.export({ format: "jwk" }) as object), kid: "enc", use: "enc" },
      ],
    };
    const fromJwks = keysFromJwks(jwks);
    expect(fromJwks.map((k) => k.kid)).toEqual(["ec-1", "rsa-1", "hs-1"]);
    expect(verifyJwt(signJwt(claims(), "ES256", ec.privateKey, { kid: "ec-1" }), fromJwks, settings).sub).toBe("alice");
    expect(
      reason(() => verifyJwt(signJwt(claims(), "ES256", ec.privateKey, { kid: "nope" }), fromJwks, settings)),
    ).toBe("no key for this token");
    expect(() => keyFromSecret("short")).toThrow(/32 bytes/);
  });
});
