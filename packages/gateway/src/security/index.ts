/**
 * The public listener's security, as one middleware: authentication, then rate limits, then
 * authorization. Health probes pass untouched. The internal listener trusts only the principal
 * that a signed forwarded request carries.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import type { GatewayConfig } from "../config.ts";
import { ErrorCode, RestError, serviceUnavailable } from "../errors.ts";
import { type RequestEnv, readBodyBytes } from "../http/body.ts";
import type { Logger } from "../log.ts";
import { auditEntry, isAdminWrite, writeAudit } from "./audit.ts";
import { type AuthenticationSettings, authRequestOf, createAuthenticator } from "./authentication/index.ts";
import { createAuthorizer, type Resource, type Rule } from "./authorization.ts";
import { decodePrincipal, PRINCIPAL_HEADER, type Principal, setPrincipal } from "./principal.ts";
import { createRateLimiter, createRedisBuckets, type RateLimitSettings } from "./rate-limit.ts";
import { consumerBodyTopics, type Scope, scopeOf } from "./request-scope.ts";
import type { TlsSettings } from "./tls.ts";

export interface SecurityConfig {
  tls: TlsSettings | null;
  authentication: AuthenticationSettings;
  /** Null: no authorization (every authenticated principal may do everything). */
  authorizationRules: Rule[] | null;
  rateLimit: RateLimitSettings | null;
  /** /metrics without authentication (for a Prometheus that cannot send credentials). */
  metricsOpen: boolean;
}

type NodeEnv = RequestEnv & { incoming?: IncomingMessage; outgoing?: ServerResponse };

export interface Security {
  /** For the public app, before every route. */
  readonly middleware: MiddlewareHandler;
  /** Resolves once the rate limits' shared store answers, or after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** True when the public listener needs the security middleware at all. */
export function securityEnabled(settings: SecurityConfig): boolean {
  return (
    settings.authentication.methods.length > 0 || settings.authorizationRules !== null || settings.rateLimit !== null
  );
}

/**
 * For the internal app: the principal a forwarding node vouched for. createInternalHandler has
 * verified the cluster signature, which covers this header; nothing else sets it.
 */
export const trustForwardedPrincipal: MiddlewareHandler = async (c, next) => {
  const principal = decodePrincipal(c.req.header(PRINCIPAL_HEADER));
  if (principal) setPrincipal(c, principal);
  await next();
};

export function createSecurity(config: GatewayConfig, log: Logger, audit: Logger): Security {
  const settings = config.security;
  const authenticator = createAuthenticator(settings.authentication);
  const authorizer = settings.authorizationRules ? createAuthorizer(settings.authorizationRules) : null;
  const limiter = settings.rateLimit
    ? createRateLimiter(settings.rateLimit, config.redis ? createRedisBuckets(config.redis, log) : null)
    : null;

  /** Resources named in the body; the body is kept for the route to read again. */
  const bodyResources = async (c: Context, scope: Extract<Scope, { kind: "access" }>): Promise<Resource[]> => {
    if (scope.body === "consumer-topics") {
      const body = await readBodyBytes(c, config.http.maxBodyBytes);
      // c.env is undefined only under app.request() in tests; routes read the body from here.
      c.env = { ...((c.env as NodeEnv | undefined) ?? {}), body } satisfies NodeEnv;
      const { topics, any } = consumerBodyTopics(parseLoosely(body));
      return [
        ...topics.map((name) => ({ type: "topic" as const, name })),
        ...(any ? [{ type: "topic", any: true } as const] : []),
      ];
    }
    if (scope.body === "created-topic" && c.req.raw.body) {
      // A copy of the stream: the route reads the original with whatever reader it uses.
      const body = await readStream(c.req.raw.clone().body, config.http.maxBodyBytes);
      const name = (parseLoosely(body) as { topic_name?: unknown } | null)?.topic_name;
      if (typeof name === "string") return [{ type: "topic", name }];
    }
    return [];
  };

  const authorize = async (c: Context, principal: Principal, scope: Scope) => {
    if (!authorizer || scope.kind !== "access") return;
    const extra = await bodyResources(c, scope);
    const resources = scope.body === "created-topic" && extra.length > 0 ? extra : [...scope.resources, ...extra];
    try {
      authorizer.check(principal, scope.operation, resources);
    } catch (error) {
      // Admin writes are audited around the whole request already.
      if (!isAdminWrite(c.req.method, c.req.path)) writeAudit(audit, auditEntry(c, 403));
      throw error;
    }
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    const eventStream = (c.req.header("accept") ?? "").includes("text/event-stream");
    const scope = scopeOf(c.req.method, c.req.path, { metricsOpen: settings.metricsOpen, eventStream });
    if (scope.kind === "open") return next();

    let principal: Principal | null = null;
    if (authenticator.enabled) {
      principal = await authenticator.authenticate(authRequestOf(c));
      setPrincipal(c, principal);
    }

    const env = c.env as NodeEnv | undefined;
    const limitKey = principal?.name ?? `ip:${env?.incoming?.socket.remoteAddress ?? "unknown"}`;
    let limitHeaders: Record<string, string> = {};
    if (limiter) {
      const declared = Number(c.req.header("content-length") ?? 0) || 0;
      const admission = await limiter.admit(limitKey, declared);
      if (admission.unavailable) throw serviceUnavailable("Rate limiter unavailable; retry.");
      if (!admission.allowed) {
        throw new RestError(429, ErrorCode.TooManyRequests, "Request rate limit exceeded.", admission.headers);
      }
      limitHeaders = admission.headers;
      chargeWireBytes(env, declared, (bytes) => limiter.charge(limitKey, bytes));
    }

    if (principal) await authorize(c, principal, scope);
    await next();
    for (const [name, value] of Object.entries(limitHeaders)) {
      try {
        c.res.headers.set(name, value);
      } catch {
        // Immutable headers (a proxied response): the limits still applied.
      }
    }
  };

  return {
    middleware,
    ready: async (timeoutMs) => {
      await limiter?.ready(timeoutMs);
    },
    close: async () => {
      await limiter?.close();
    },
  };
}

/** Once the response is sent, charges what crossed the socket beyond the declared body. */
function chargeWireBytes(env: NodeEnv | undefined, declared: number, charge: (bytes: number) => void): void {
  const socket = env?.incoming?.socket;
  const outgoing = env?.outgoing;
  if (!socket || !outgoing) return;
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  outgoing.once("close", () => {
    const extra = Math.max(0, socket.bytesRead - read - declared) + Math.max(0, socket.bytesWritten - written);
    if (extra > 0) charge(extra);
  });
}

function parseLoosely(body: Uint8Array): unknown {
  if (body.length === 0) return null;
  try {
    return JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return null; // The route answers malformed JSON itself.
  }
}

async function readStream(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    // Leaving the loop cancels the copy; the route's own reader answers 413.
    if (size > limit) return new Uint8Array(0);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
