/**
 * Who a request acts for. Authentication sets it on the hono context; authorization, rate limits,
 * the audit log and consumer-instance ownership read it. Between nodes it travels in a header that
 * only the internal listener trusts, and only because the cluster signature covers it.
 */
import type { Context } from "hono";

export type AuthMethod = "basic" | "apikey" | "jwt" | "mtls";

export interface Principal {
  /** The user name, API key owner, JWT subject or certificate subject. */
  name: string;
  /** Groups it belongs to (credentials file, API key file or JWT claim); rules may name them. */
  groups: string[];
  method: AuthMethod;
}

const KEY = "wharf.principal";

export function setPrincipal(c: Context, principal: Principal): void {
  (c as Context<{ Variables: Record<typeof KEY, Principal> }>).set(KEY, principal);
}

/** The authenticated principal, or null when authentication is off. */
export function principalOf(c: Context): Principal | null {
  return (c as Context<{ Variables: Record<typeof KEY, Principal | undefined> }>).get(KEY) ?? null;
}

/** Header carrying the principal on forwarded requests; the cluster signature covers its value. */
export const PRINCIPAL_HEADER = "x-wharf-principal";

export function encodePrincipal(principal: Principal | null): string | undefined {
  return principal ? Buffer.from(JSON.stringify(principal)).toString("base64url") : undefined;
}

export function decodePrincipal(value: string | null | undefined): Principal | null {
  if (!value) return null;
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Partial<Principal>;
    if (typeof parsed.name !== "string" || !Array.isArray(parsed.groups)) return null;
    return {
      name: parsed.name,
      groups: parsed.groups.filter((g): g is string => typeof g === "string"),
      method: parsed.method ?? "basic",
    };
  } catch {
    return null;
  }
}
