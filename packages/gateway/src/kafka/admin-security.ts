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
  const protocol = (props["security.protocol"] ?? "plaintext").toLowerCase();
  if (!["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].includes(protocol)) {
    throw new KafkaSecurityError(`security.protocol ${protocol} is not supported`);
  }
  const out: AdminSecurityOptions = {};
  if (protocol === "ssl" || protocol === "sasl_ssl") out.tls = tlsOptions(props);
  if (protocol === "sasl_plaintext" || protocol === "sasl_ssl") out.sasl = saslOptions(props);
  return out;
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
    return { mechanism: "OAUTHBEARER", token: oidcTokenProvider(props) };
  }
  return { mechanism: "OAUTHBEARER", token: unsecuredToken(props["sasl.oauthbearer.config"] ?? "") };
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

/**
 * librdkafka's default OAUTHBEARER token: unsigned (alg none), from `principal=<name>
 * [lifeSeconds=<n>] [scope=<a,b>]`. Only brokers configured for unsecured tokens accept it.
 */
function unsecuredToken(config: string): () => string {
  const fields = Object.fromEntries(
    config
      .split(/\s+/)
      .filter((f) => f.includes("="))
      .map((f) => [f.slice(0, f.indexOf("=")), f.slice(f.indexOf("=") + 1)]),
  );
  if (!fields.principal) throw new KafkaSecurityError("sasl.oauthbearer.config needs principal=<name>");
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return () => {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      sub: fields.principal,
      iat: now,
      exp: now + Number(fields.lifeSeconds ?? 3600),
    };
    if (fields.scope) claims.scope = fields.scope.split(",");
    return `${part({ alg: "none" })}.${part(claims)}.`;
  };
}
