/** HTTP Basic against the credentials file (scrypt hashes). */
import type { Principal } from "../principal.ts";
import type { CredentialEntry, SecretVerifier } from "./credentials-file.ts";
import { type Authenticator, invalidCredentials } from "./types.ts";

export function basicAuthenticator(
  users: Map<string, CredentialEntry>,
  verifier: SecretVerifier,
  realm: string,
): Authenticator {
  return {
    challenge: `Basic realm="${realm}", charset="UTF-8"`,
    async authenticate(request): Promise<Principal | null> {
      const header = request.header("authorization");
      const match = header ? /^Basic[ \t]+([A-Za-z0-9+/=]*)[ \t]*$/i.exec(header) : null;
      if (!match) return null;
      const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0) throw invalidCredentials("Basic");
      const name = decoded.slice(0, colon);
      const entry = users.get(name);
      // Unknown users are checked against a decoy hash: the answer takes as long as a wrong password.
      const ok = await verifier.verify("basic", name, decoded.slice(colon + 1), entry?.hash ?? null);
      if (!ok || !entry) throw invalidCredentials("Basic");
      return { name: entry.principal, groups: entry.groups, method: "basic" };
    },
  };
}
