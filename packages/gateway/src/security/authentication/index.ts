/**
 * The authentication chain: each configured method looks for its own kind of credentials; the
 * first that finds some decides. No credentials at all is a 401 naming every accepted scheme.
 */
import { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Context } from "hono";
import { RestError, unauthenticated } from "../../errors.ts";
import type { AuthMethod, Principal } from "../principal.ts";
import { apiKeyAuthenticator } from "./api-keys.ts";
import { basicAuthenticator } from "./basic.ts";
import { type CredentialEntry, createSecretVerifier } from "./credentials-file.ts";
import { type JwtSettings, jwtAuthenticator } from "./jwt.ts";
import type { Authenticator, AuthRequest, TlsPeer } from "./types.ts";

export type { Authenticator, AuthRequest, TlsPeer } from "./types.ts";

export interface AuthenticationSettings {
  /** In the order they are tried; empty turns authentication off. */
  methods: AuthMethod[];
  realm: string;
  basicUsers: Map<string, CredentialEntry> | null;
  apiKeys: Map<string, CredentialEntry> | null;
  jwt: JwtSettings | null;
  /** Principal from a client certificate: its whole subject (dn) or its common name (cn). */
  certificatePrincipal: "dn" | "cn";
}

export function mtlsAuthenticator(use: "dn" | "cn"): Authenticator {
  return {
    challenge: null,
    async authenticate(request): Promise<Principal | null> {
      const peer = request.tlsPeer();
      if (!peer) return null;
      const name = use === "cn" ? peer.commonName : peer.subject;
      return name ? { name, groups: [], method: "mtls" } : null;
    },
  };
}

export function createAuthenticator(settings: AuthenticationSettings) {
  const verifier = createSecretVerifier();
  const build: Record<AuthMethod, () => Authenticator> = {
    basic: () => basicAuthenticator(settings.basicUsers ?? new Map(), verifier, settings.realm),
    apikey: () => apiKeyAuthenticator(settings.apiKeys ?? new Map(), verifier, settings.realm),
    jwt: () => jwtAuthenticator(settings.jwt as JwtSettings, settings.realm),
    mtls: () => mtlsAuthenticator(settings.certificatePrincipal),
  };
  const chain = settings.methods.map((method) => build[method]());
  const challenges = chain.flatMap((a) => (a.challenge ? [a.challenge] : [])).join(", ");
  const challenge = challenges || `Certificate realm="${settings.realm}"`;

  return {
    enabled: chain.length > 0,
    async authenticate(request: AuthRequest): Promise<Principal> {
      for (const authenticator of chain) {
        let principal: Principal | null;
        try {
          principal = await authenticator.authenticate(request);
        } catch (error) {
          if (!(error instanceof RestError)) {
            // e.g. the verifier's queue is full: refuse without saying more.
            throw unauthenticated("Authentication error: try again later.", challenge);
          }
          throw error.headers["WWW-Authenticate"] ? error : unauthenticated(error.message, challenge);
        }
        if (principal) return principal;
      }
      throw unauthenticated("Authentication error: credentials are required.", challenge);
    },
  };
}

export type RequestAuthenticator = ReturnType<typeof createAuthenticator>;

/** The verified client certificate of the request's TLS connection, if any. */
export function tlsPeerOf(c: Context): TlsPeer | null {
  const socket = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket as TLSSocket | undefined;
  if (!socket?.encrypted || !socket.authorized) return null;
  const raw = socket.getPeerCertificate()?.raw;
  if (!raw) return null;
  const lines = new X509Certificate(raw).subject.split("\n");
  const commonName = lines.find((l) => l.startsWith("CN="))?.slice(3) ?? null;
  return { subject: lines.reverse().join(","), commonName };
}

export function authRequestOf(c: Context): AuthRequest {
  return { header: (name) => c.req.header(name), tlsPeer: () => tlsPeerOf(c) };
}
