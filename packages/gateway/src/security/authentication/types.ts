/** What every authentication method implements, and the 401 they share. */
import { unauthenticated } from "../../errors.ts";
import type { Principal } from "../principal.ts";

/** The client certificate of a TLS connection, when the client sent one that the CA vouches for. */
export interface TlsPeer {
  /** Subject in RFC 2253 order (most specific first): "CN=alice,O=Example". */
  subject: string;
  commonName: string | null;
}

export interface AuthRequest {
  header(name: string): string | undefined;
  /** The verified client certificate, or null (no TLS, none sent, or not trusted). */
  tlsPeer(): TlsPeer | null;
}

export interface Authenticator {
  /** The WWW-Authenticate challenge this method answers to; null for mTLS (no HTTP challenge). */
  readonly challenge: string | null;
  /**
   * The principal, or null when the request carries no credentials of this kind. Credentials of
   * this kind that are wrong throw a 401 at once (no other method is tried).
   */
  authenticate(request: AuthRequest): Promise<Principal | null>;
}

/** The same message whatever was wrong (unknown user, wrong secret): nothing to probe for. */
export const invalidCredentials = (scheme: string) =>
  unauthenticated(`Authentication error: invalid ${scheme} credentials.`);
