/**
 * A test double of an identity provider's token endpoint (OAuth 2.0 client-credentials grant),
 * issuing RS256 JWTs (RFC 7519 / 7515) signed with a given key: what librdkafka's and the admin
 * client's OAUTHBEARER OIDC method fetch their tokens from.
 */
import { type KeyObject, sign } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface TokenEndpointOptions {
  /** Signs the tokens (RS256). */
  key: KeyObject;
  /** The JWS header's key id, and the iss, aud, sub and scope claims. */
  kid: string;
  issuer: string;
  audience: string;
  subject: string;
  scope: string;
  /** The only client it gives tokens to. */
  client: { id: string; secret: string };
}

export interface TokenEndpoint {
  url: string;
  /** How many tokens it handed out. */
  issued(): number;
  close(): Promise<void>;
}

/**
 * An OAuth 2.0 token endpoint for the client-credentials grant: it checks the client's id and
 * secret (HTTP Basic, or form fields) and answers with an RS256 JWT signed with `key`.
 */
export async function startTokenEndpoint(options: TokenEndpointOptions): Promise<TokenEndpoint> {
  const { kid, issuer, audience, subject, scope, client: expected } = options;
  let issued = 0;
  const server = createServer(async (req, res) => {
    const answer = (status: number, body: object) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    const form = new URLSearchParams(await readBody(req));
    if (req.method !== "POST" || form.get("grant_type") !== "client_credentials") {
      answer(400, { error: "unsupported_grant_type" });
      return;
    }
    const client = clientCredentials(req, form);
    if (client.id !== expected.id || client.secret !== expected.secret) {
      answer(401, { error: "invalid_client" });
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer,
      aud: audience,
      sub: subject,
      iat: now,
      exp: now + 3600,
      scope,
    };
    issued++;
    answer(200, { access_token: signJwt(claims, options.key, kid), token_type: "bearer", expires_in: 3600 });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/oauth2/token`,
    issued: () => issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** RFC 6749 2.3.1: HTTP Basic (each part form-encoded), or client_id and client_secret in the body. */
function clientCredentials(req: IncomingMessage, form: URLSearchParams): { id?: string; secret?: string } {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
  if (!basic?.[1]) return { id: form.get("client_id") ?? undefined, secret: form.get("client_secret") ?? undefined };
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const part = (s: string) => decodeURIComponent(s.replaceAll("+", " "));
  return colon < 0 ? {} : { id: part(decoded.slice(0, colon)), secret: part(decoded.slice(colon + 1)) };
}

/** A compact JWS (RFC 7515) with RS256: RSASSA-PKCS1-v1_5 over SHA-256, Node's default for an RSA key. */
function signJwt(claims: object, key: KeyObject, kid: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${part({ alg: "RS256", typ: "JWT", kid })}.${part(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}
