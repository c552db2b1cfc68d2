/**
 * The librdkafka security settings (client.* and admin.* pass-through) translated for
 * @platformatic/kafka's admin client, so that the admin connection is as secure as the producers'
 * and consumers': TLS (CA, client certificate, hostname check) and SASL PLAIN, SCRAM-SHA-256/512
 * and OAUTHBEARER (OIDC client credentials, or librdkafka's unsecured development tokens).
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import type { SASLOptions } from "@platformatic/kafka";

export interface AdminSecurityOptions {
  tls?: TlsOptions;
  sasl?: SASLOptions;
}

type Mechanism = SASLOptions["mechanism"];
const MECHANISMS: readonly string[] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"];

export class KafkaSecurityError extends Error {
  override name = "KafkaSecurityError";
}

export function adminSecurityOptions(props: Record<string, string>): AdminSecurityOptions {
  const protocol = securityProtocol(props);
  const out: AdminSecurityOptions = {};
  if (protocol === "ssl" || protocol === "sasl_ssl") out.tls = tlsOptions(props);
  if (protocol === "sasl_plaintext" || protocol === "sasl_ssl") out.sasl = saslOptions(props);
  return out;
}

/**
 * Why the OAUTHBEARER settings cannot work (null when they can, or when OAUTHBEARER is not used),
 * checked without I/O so that start-up refuses them with the other configuration problems rather
 * than leave librdkafka waiting for a token it will never have.
 */
export function oauthbearerProblem(props: Record<string, string>): string | null {
  const protocol = (props["security.protocol"] ?? "plaintext").toLowerCase();
  const mechanism = (props["sasl.mechanisms"] ?? props["sasl.mechanism"] ?? "").toUpperCase();
  if (!protocol.startsWith("sasl_") || mechanism !== "OAUTHBEARER") return null;
  try {
    saslOptions(props);
    return null;
  } catch (error) {
    if (error instanceof KafkaSecurityError) return error.message;
    throw error;
  }
}

function securityProtocol(props: Record<string, string>): string {
  const protocol = (props["security.protocol"] ?? "plaintext").toLowerCase();
  if (!["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].includes(protocol)) {
    throw new KafkaSecurityError(`security.protocol ${protocol} is not supported`);
  }
  return protocol;
}

function tlsOptions(props: Record<string, string>): TlsOptions {
  const file = (key: string) => (props[key] ? readFileSync(props[key] as string, "utf8") : undefined);
  const ca = props["ssl.ca.pem"] ?? file("ssl.ca.location");
  const cert = props["ssl.certificate.pem"] ?? file("ssl.certificate.location");
  const key = props["ssl.key.pem"] ?? file("ssl.key.location");
  const verify = (props["enable.ssl.certificate.verification"] ?? "true").toLowerCase() !== "false";
  const hostname = (props["ssl.endpoint.identification.algorithm"] ?? "https").toLowerCase() !== "none";
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(props["ssl.key.password"] ? { passphrase: props["ssl.key.password"] } : {}),
    rejectUnauthorized: verify,
    ...(hostname ? {} : { checkServerIdentity: () => undefined }),
  };
}

function saslOptions(props: Record<string, string>): SASLOptions {
  const mechanism = (props["sasl.mechanisms"] ?? props["sasl.mechanism"] ?? "GSSAPI").toUpperCase();
  if (!MECHANISMS.includes(mechanism)) {
    throw new KafkaSecurityError(`SASL mechanism ${mechanism} is not supported (${MECHANISMS.join(", ")})`);
  }
  if (mechanism !== "OAUTHBEARER") {
    return {
      mechanism: mechanism as Mechanism,
      username: props["sasl.username"] ?? "",
      password: props["sasl.password"] ?? "",
    };
  }
  if ((props["sasl.oauthbearer.method"] ?? "default").toLowerCase() === "oidc") {
    return { mechanism: "OAUTHBEARER", token: oidcTokenProvider(props), authBytesValidator: refusedToken };
  }
  // Otherwise librdkafka takes its token only from an oauthbearer_token_refresh_cb, which Wharf never
  // sets: its producers could never authenticate while this admin client did.
  if (!/^(true|t|1)$/i.test(props["enable.sasl.oauthbearer.unsecure.jwt"] ?? "false")) {
    throw new KafkaSecurityError(
      "sasl.mechanisms=OAUTHBEARER needs sasl.oauthbearer.method=oidc, or enable.sasl.oauthbearer.unsecure.jwt=true " +
        "for librdkafka's unsecured development tokens (Wharf sets no token refresh callback)",
    );
  }
  const settings = parseUnsecuredJwtConfig(props["sasl.oauthbearer.config"] ?? "");
  return {
    mechanism: "OAUTHBEARER",
    token: () => unsecuredJwt(settings, Date.now()),
    oauthBearerExtensions: settings.extensions,
    authBytesValidator: refusedToken,
  };
}

/**
 * A broker that refuses a token answers with an RFC 7628 error ({"status":"invalid_token"...})
 * instead of failing the request, and @platformatic/kafka would take that for a success: the next
 * request then fails with an unrelated "not valid given the current SASL state". Fail here instead.
 */
function refusedToken(authBytes: Buffer, callback: (error: Error | null, authBytes: Buffer) => void): void {
  if (authBytes.length === 0) {
    callback(null, authBytes);
    return;
  }
  callback(new KafkaSecurityError(`Kafka refused the OAUTHBEARER token: ${authBytes.toString("utf8")}`), authBytes);
}

/** librdkafka's client-credentials flow (sasl.oauthbearer.method=oidc): a token, renewed before it expires. */
function oidcTokenProvider(props: Record<string, string>): () => Promise<string> {
  const endpoint = props["sasl.oauthbearer.token.endpoint.url"];
  if (!endpoint) throw new KafkaSecurityError("sasl.oauthbearer.method=oidc needs sasl.oauthbearer.token.endpoint.url");
  let cached: { token: string; renewAt: number } | null = null;
  return async () => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    if (props["sasl.oauthbearer.scope"]) form.set("scope", props["sasl.oauthbearer.scope"]);
    const basic = Buffer.from(
      `${props["sasl.oauthbearer.client.id"] ?? ""}:${props["sasl.oauthbearer.client.secret"] ?? ""}`,
    ).toString("base64");
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
    if (!response.ok) throw new KafkaSecurityError(`OIDC token endpoint answered ${response.status}`);
    const body = (await response.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new KafkaSecurityError("OIDC token endpoint returned no access_token");
    cached = { token: body.access_token, renewAt: Date.now() + Math.max(10, (body.expires_in ?? 300) * 0.8) * 1000 };
    return cached.token;
  };
}

/** `sasl.oauthbearer.config` as librdkafka reads it for its unsecured tokens. */
export interface UnsecuredJwtConfig {
  principalClaimName: string;
  principal: string;
  scopeClaimName: string;
  /** Without duplicates or empty entries. */
  scope: string[];
  lifeSeconds: number;
  /** SASL extensions sent beside the token (`extension_<key>=<value>`). */
  extensions: Record<string, string>;
}

const SETTINGS = ["principalClaimName", "principal", "scopeClaimName", "scope", "lifeSeconds"] as const;

/**
 * Space-separated `<name>=<value>`: principal (required), principalClaimName (sub), scope (a comma
 * list), scopeClaimName (scope), lifeSeconds (3600), extension_<key>. Refuses what librdkafka
 * refuses, since a config it cannot read is a fatal error for every producer and consumer.
 */
export function parseUnsecuredJwtConfig(config: string): UnsecuredJwtConfig {
  const invalid = (why: string) => new KafkaSecurityError(`invalid sasl.oauthbearer.config: ${why}`);
  const values = new Map<string, string>();
  const extensions: Record<string, string> = {};
  for (const entry of config.split(" ").filter((e) => e !== "")) {
    const eq = entry.indexOf("=");
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (eq >= 0 && name.startsWith("extension_")) {
      const key = name.slice("extension_".length);
      // RFC 7628: keys are letters only, and "auth" carries the token itself.
      if (!/^[A-Za-z]+$/.test(key) || key === "auth") throw invalid(`bad extension name "${key}"`);
      if (key in extensions) throw invalid(`more than one extension_${key}`);
      extensions[key] = value;
      continue;
    }
    if (eq < 0 || !(SETTINGS as readonly string[]).includes(name)) throw invalid(`unknown entry "${entry}"`);
    if (values.has(name)) throw invalid(`more than one ${name}=`);
    if (value === "") throw invalid(`empty ${name}=`);
    // librdkafka writes these into the token's JSON unescaped, and refuses them rather than break it.
    if (name !== "lifeSeconds" && value.includes('"')) throw invalid(`${name} cannot contain '"'`);
    values.set(name, value);
  }
  const principal = values.get("principal");
  if (!principal) throw invalid("no principal=<name>");
  const life = values.get("lifeSeconds") ?? "3600";
  const lifeSeconds = Number(life);
  if (!/^[0-9]+$/.test(life) || lifeSeconds <= 0 || lifeSeconds > 2 ** 31 - 1) {
    throw invalid(`lifeSeconds must be a positive integer, got "${life}"`);
  }
  return {
    principalClaimName: values.get("principalClaimName") ?? "sub",
    principal,
    scopeClaimName: values.get("scopeClaimName") ?? "scope",
    scope: [...new Set((values.get("scope") ?? "").split(",").filter((s) => s !== ""))],
    lifeSeconds,
    extensions,
  };
}

/**
 * The token librdkafka builds for enable.sasl.oauthbearer.unsecure.jwt: a JWS with {"alg":"none"},
 * the principal claim, iat and exp in seconds (with milliseconds), the scope claim as a list, and
 * an empty signature. Only a broker that validates unsecured tokens accepts it.
 */
export function unsecuredJwt(config: UnsecuredJwtConfig, nowMs: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = nowMs / 1000;
  const claims: Record<string, unknown> = {
    [config.principalClaimName]: config.principal,
    iat: now,
    exp: now + config.lifeSeconds,
  };
  if (config.scope.length > 0) claims[config.scopeClaimName] = config.scope;
  return `${part({ alg: "none" })}.${part(claims)}.`;
}
