/**
 * API keys: `<key id>.<secret>` in an `X-API-Key` header (or `Authorization: ApiKey <key>`),
 * checked against the API key file, which stores only a hash of each secret.
 */
import type { Principal } from "../principal.ts";
import type { CredentialEntry, SecretVerifier } from "./credentials-file.ts";
import { type Authenticator, invalidCredentials } from "./types.ts";

function presentedKey(header: (name: string) => string | undefined): string | null {
  const direct = header("x-api-key");
  if (direct !== undefined) return direct.trim();
  const match = /^ApiKey[ \t]+(\S+)[ \t]*$/i.exec(header("authorization") ?? "");
  return match ? (match[1] as string) : null;
}

export function apiKeyAuthenticator(
  keys: Map<string, CredentialEntry>,
  verifier: SecretVerifier,
  realm: string,
): Authenticator {
  return {
    challenge: `ApiKey realm="${realm}"`,
    async authenticate(request): Promise<Principal | null> {
      const key = presentedKey((name) => request.header(name));
      if (key === null) return null;
      const dot = key.indexOf(".");
      if (dot <= 0) throw invalidCredentials("ApiKey");
      const id = key.slice(0, dot);
      const entry = keys.get(id);
      const ok = await verifier.verify("apikey", id, key.slice(dot + 1), entry?.hash ?? null);
      if (!ok || !entry) throw invalidCredentials("ApiKey");
      return { name: entry.principal, groups: entry.groups, method: "apikey" };
    },
  };
}
