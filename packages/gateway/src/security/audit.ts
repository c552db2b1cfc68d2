/**
 * The audit log: one structured JSON line (`"audit": true`) per admin write and per refused
 * request, naming the principal, the operation, the resource and the outcome. It goes through its
 * own logger so that `log.level=warn` does not silence it.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../log.ts";
import { describeResource } from "./authorization.ts";
import { principalOf } from "./principal.ts";
import { scopeOf } from "./request-scope.ts";

export interface AuditEntry {
  principal: string | null;
  method: string;
  path: string;
  operation: string;
  resource: string;
  outcome: "success" | "failure" | "denied" | "unauthenticated" | "rate-limited";
  status: number;
}

export function outcomeOf(status: number): AuditEntry["outcome"] {
  if (status === 401) return "unauthenticated";
  if (status === 403) return "denied";
  if (status === 429) return "rate-limited";
  return status < 400 ? "success" : "failure";
}

export function auditEntry(c: Context, status: number): AuditEntry {
  const scope = scopeOf(c.req.method, c.req.path, { metricsOpen: false, eventStream: false });
  const access = scope.kind === "access" ? scope : null;
  return {
    principal: principalOf(c)?.name ?? null,
    method: c.req.method,
    path: c.req.path,
    operation: access?.operation ?? "read",
    resource: access ? access.resources.map(describeResource).join(",") : "none",
    outcome: outcomeOf(status),
    status,
  };
}

export function writeAudit(audit: Logger, entry: AuditEntry): void {
  audit.info("audit", { audit: true, ...entry });
}

/**
 * For app.ts to put in front of every admin write (non-GET /v3/ other than produce): logs each
 * one after it ran, whatever its outcome, including refusals by authentication or authorization.
 */
export function auditAdminWrites(audit: Logger): MiddlewareHandler {
  return async (c, next) => {
    if (!isAdminWrite(c.req.method, c.req.path)) return next();
    await next();
    writeAudit(audit, auditEntry(c, c.res.status));
  };
}

export function isAdminWrite(method: string, path: string): boolean {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return false;
  if (!path.startsWith("/v3/")) return false;
  return !/\/records(?::batch)?\/?$/.test(path);
}
