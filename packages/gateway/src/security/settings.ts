/**
 * The security settings, validated once with the rest of the configuration. Files (certificates,
 * credentials, API keys, JWKS, rules) are read and parsed here, so a bad one stops the start-up
 * with a message naming the setting, and a running gateway never reads them mid-request.
 */
import { readFileSync } from "node:fs";
import { readApiKeyFile, readCredentialsFile } from "./authentication/credentials-file.ts";
import type { AuthenticationSettings } from "./authentication/index.ts";
import { type JwtKey, keyFromSecret, keysFromPem, readJwks } from "./authentication/jwt.ts";
import { readRulesFile } from "./authorization.ts";
import type { SecurityConfig } from "./index.ts";
import type { AuthMethod } from "./principal.ts";
import type { RateLimitSettings } from "./rate-limit.ts";
import { type ClientAuth, loadTls } from "./tls.ts";

export const securityKeys = [
  "ssl.cert.location",
  "ssl.key.location",
  "ssl.key.password",
  "ssl.ca.location",
  "ssl.client.auth",
  "ssl.principal.mapping",
  "authentication.methods",
  "authentication.realm",
  "authentication.basic.file",
  "authentication.apikey.file",
  "authentication.jwt.jwks.file",
  "authentication.jwt.public.key.location",
  "authentication.jwt.secret",
  "authentication.jwt.issuer",
  "authentication.jwt.audience",
  "authentication.jwt.clock.skew.ms",
  "authentication.jwt.principal.claim",
  "authentication.jwt.groups.claim",
  "authentication.exempt.metrics",
  "authorization.rules.file",
  "rate.limit.principal.requests.per.second",
  "rate.limit.principal.bytes.per.second",
  "rate.limit.global.requests.per.second",
  "rate.limit.global.bytes.per.second",
  "rate.limit.redis.failure",
] as const;

/** Settings whose values are secrets: never echoed in an error message or a log line. */
export const secretKeys = new Set(["ssl.key.password", "authentication.jwt.secret", "cluster.secret"]);

const METHODS: readonly AuthMethod[] = ["basic", "apikey", "jwt", "mtls"];

export function parseSecurity(props: Record<string, string>, problems: string[], https: boolean): SecurityConfig {
  const get = (key: string) => (props[key] === undefined || props[key] === "" ? null : (props[key] as string));
  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const raw = get(key)?.toLowerCase() ?? fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`"${key}" must be one of ${allowed.join(", ")}, got "${raw}"`);
    return fallback;
  };
  const positive = (key: string): number | null => {
    const raw = get(key);
    if (raw === null) return null;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) {
      problems.push(`"${key}" must be a positive number, got "${raw}"`);
      return null;
    }
    return value;
  };
  /** Runs a loader; a failure becomes a problem naming the setting (never its value). */
  const load = <T>(key: string, loader: () => T): T | null => {
    try {
      return loader();
    } catch (error) {
      problems.push(`"${key}": ${(error as Error).message}`);
      return null;
    }
  };

  // ---- TLS
  const certLocation = get("ssl.cert.location");
  const keyLocation = get("ssl.key.location");
  const clientAuthRaw = get("ssl.client.auth")?.toLowerCase();
  // Confluent's older boolean form: ssl.client.auth=true means required.
  const clientAuth: ClientAuth =
    clientAuthRaw === "true"
      ? "required"
      : clientAuthRaw === "false"
        ? "none"
        : oneOf("ssl.client.auth", ["none", "requested", "required"], "none");
  let tls: SecurityConfig["tls"] = null;
  if (https) {
    if (!certLocation || !keyLocation) {
      problems.push('an https:// listener needs "ssl.cert.location" and "ssl.key.location"');
    } else if (clientAuth !== "none" && !get("ssl.ca.location")) {
      problems.push(`"ssl.client.auth=${clientAuth}" needs "ssl.ca.location" (the CA client certificates chain to)`);
    } else {
      tls = load("ssl.cert.location", () =>
        loadTls({
          certLocation,
          keyLocation,
          keyPassword: get("ssl.key.password"),
          caLocation: get("ssl.ca.location"),
          clientAuth,
        }),
      );
    }
  } else if (certLocation || keyLocation) {
    problems.push('"ssl.cert.location" / "ssl.key.location" are set but "listeners" is not https://');
  }

  // ---- authentication
  const methodList = (get("authentication.methods") ?? "none")
    .toLowerCase()
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "" && m !== "none");
  const methods: AuthMethod[] = [];
  for (const m of methodList) {
    if ((METHODS as readonly string[]).includes(m)) methods.push(m as AuthMethod);
    else problems.push(`"authentication.methods": unknown method "${m}" (${METHODS.join(", ")} or none)`);
  }
  const basicFile = get("authentication.basic.file");
  const apiKeyFile = get("authentication.apikey.file");
  if (methods.includes("basic") && !basicFile)
    problems.push('authentication method basic needs "authentication.basic.file"');
  if (methods.includes("apikey") && !apiKeyFile)
    problems.push('authentication method apikey needs "authentication.apikey.file"');
  if (methods.includes("mtls") && (!https || clientAuth === "none")) {
    problems.push('authentication method mtls needs an https:// listener and "ssl.client.auth" requested or required');
  }

  let jwt: AuthenticationSettings["jwt"] = null;
  if (methods.includes("jwt")) {
    const keys: JwtKey[] = [];
    const pem = get("authentication.jwt.public.key.location");
    if (pem)
      keys.push(
        ...(load("authentication.jwt.public.key.location", () => keysFromPem(readFileSync(pem, "utf8"))) ?? []),
      );
    const secret = get("authentication.jwt.secret");
    if (secret) {
      const key = load("authentication.jwt.secret", () => keyFromSecret(secret));
      if (key) keys.push(key);
    }
    const jwksFile = get("authentication.jwt.jwks.file");
    if (jwksFile) load("authentication.jwt.jwks.file", () => readJwks(jwksFile));
    if (!pem && !secret && !jwksFile) {
      problems.push(
        'authentication method jwt needs "authentication.jwt.jwks.file", "authentication.jwt.public.key.location" or "authentication.jwt.secret"',
      );
    }
    const skew = get("authentication.jwt.clock.skew.ms");
    const clockSkewMs = skew === null ? 30_000 : Number(skew);
    if (!Number.isInteger(clockSkewMs) || clockSkewMs < 0 || clockSkewMs > 600_000) {
      problems.push(`"authentication.jwt.clock.skew.ms" must be an integer between 0 and 600000`);
    }
    jwt = {
      keys,
      jwksFile,
      issuer: get("authentication.jwt.issuer"),
      audience: get("authentication.jwt.audience"),
      clockSkewMs,
      principalClaim: get("authentication.jwt.principal.claim") ?? "sub",
      groupsClaim: get("authentication.jwt.groups.claim") ?? "groups",
    };
  }

  const authentication: AuthenticationSettings = {
    methods,
    realm: (get("authentication.realm") ?? "wharf").replace(/["\\]/g, ""),
    basicUsers:
      methods.includes("basic") && basicFile
        ? load("authentication.basic.file", () => readCredentialsFile(basicFile))
        : null,
    apiKeys:
      methods.includes("apikey") && apiKeyFile
        ? load("authentication.apikey.file", () => readApiKeyFile(apiKeyFile))
        : null,
    jwt,
    certificatePrincipal: oneOf("ssl.principal.mapping", ["dn", "cn"], "dn"),
  };

  // ---- authorization
  const rulesFile = get("authorization.rules.file");
  const authorizationRules = rulesFile ? load("authorization.rules.file", () => readRulesFile(rulesFile)) : null;
  if (rulesFile && methods.length === 0) {
    problems.push('"authorization.rules.file" needs authentication ("authentication.methods") to know who is asking');
  }

  // ---- rate limits
  const limits = {
    principalRequestsPerSecond: positive("rate.limit.principal.requests.per.second"),
    principalBytesPerSecond: positive("rate.limit.principal.bytes.per.second"),
    globalRequestsPerSecond: positive("rate.limit.global.requests.per.second"),
    globalBytesPerSecond: positive("rate.limit.global.bytes.per.second"),
  };
  const onRedisFailure = oneOf("rate.limit.redis.failure", ["local", "open", "closed"], "local");
  const rateLimit: RateLimitSettings | null = Object.values(limits).some((v) => v !== null)
    ? { ...limits, onRedisFailure }
    : null;

  const exempt = get("authentication.exempt.metrics")?.toLowerCase() ?? "false";
  if (exempt !== "true" && exempt !== "false") problems.push('"authentication.exempt.metrics" must be true or false');

  return { tls, authentication, authorizationRules, rateLimit, metricsOpen: exempt === "true" };
}
