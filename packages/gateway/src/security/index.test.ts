import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { inSeconds, signJwt, testKeys } from "../../test/jwt-fixtures.ts";
import { parseConfig } from "../config.ts";
import { createErrorHandler } from "../http/error-handler.ts";
import { createLogger, silentLogger } from "../log.ts";
import { auditAdminWrites } from "./audit.ts";
import { hashSecret } from "./authentication/credentials-file.ts";
import { createSecurity } from "./index.ts";
import { principalOf } from "./principal.ts";

const dir = mkdtempSync(join(tmpdir(), "wharf-security-"));
const { hmacSecret } = testKeys();

async function setUp(extra: Record<string, string> = {}) {
  const hash = await hashSecret("alice-pw", 4);
  writeFileSync(join(dir, "users"), `alice:${hash}:team\n`);
  writeFileSync(join(dir, "keys"), `k1:${await hashSecret("key-secret", 4)}:svc\n`);
  writeFileSync(
    join(dir, "rules"),
    "User:alice produce topic:orders\nGroup:team write-admin topic:team.*\nUser:svc * *\n",
  );
  const config = parseConfig({
    "bootstrap.servers": "localhost:9092",
    "authentication.methods": "basic,apikey,jwt",
    "authentication.basic.file": join(dir, "users"),
    "authentication.apikey.file": join(dir, "keys"),
    "authentication.jwt.secret": hmacSecret,
    "authorization.rules.file": join(dir, "rules"),
    ...extra,
  });
  const lines: Record<string, unknown>[] = [];
  const audit = createLogger("info", {}, (line) => lines.push(JSON.parse(line)));
  const security = createSecurity(config, silentLogger, audit);
  const app = new Hono();
  app.use(auditAdminWrites(audit));
  app.use(security.middleware);
  app.all("*", (c) => c.json({ principal: principalOf(c)?.name ?? null }));
  app.onError(createErrorHandler(silentLogger));
  return { app, lines, security };
}

type Body = { principal?: string; error_code?: number; message?: string };
const json = async (response: Response): Promise<Body> => (await response.json()) as Body;
const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}`;

describe("the security middleware", () => {
  it("asks for credentials with 401 / 40101 and WWW-Authenticate, and leaves health probes open", async () => {
    const { app } = await setUp();
    const none = await app.request("/topics/orders", { method: "POST" });
    expect(none.status).toBe(401);
    expect(await json(none)).toMatchObject({ error_code: 40101 });
    expect(none.headers.get("www-authenticate")).toBe(
      'Basic realm="wharf", charset="UTF-8", ApiKey realm="wharf", Bearer realm="wharf"',
    );
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/readyz")).status).toBe(200);
    expect((await app.request("/metrics")).status).toBe(401);
  });

  it("accepts each method's good credentials and refuses bad ones", async () => {
    const { app } = await setUp();
    const as = async (authorization: Record<string, string>) => {
      const response = await app.request("/", { headers: authorization });
      return [response.status, response.status === 200 ? (await json(response)).principal : null];
    };
    expect(await as({ authorization: basic("alice", "alice-pw") })).toEqual([200, "alice"]);
    expect(await as({ authorization: basic("alice", "wrong") })).toEqual([401, null]);
    expect(await as({ authorization: basic("nobody", "alice-pw") })).toEqual([401, null]);
    expect(await as({ "x-api-key": "k1.key-secret" })).toEqual([200, "svc"]);
    expect(await as({ authorization: "ApiKey k1.key-secret" })).toEqual([200, "svc"]);
    expect(await as({ "x-api-key": "k1.nope" })).toEqual([401, null]);
    const token = signJwt({ sub: "jay", exp: inSeconds(60) }, "HS256", hmacSecret);
    expect(await as({ authorization: `Bearer ${token}` })).toEqual([200, "jay"]);
    const expired = signJwt({ sub: "jay", exp: inSeconds(-120) }, "HS256", hmacSecret);
    const refused = await app.request("/", { headers: { authorization: `Bearer ${expired}` } });
    expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect((await json(refused)).message).toContain("token expired");
  });

  it("authorizes per principal and group, deny by default, and audits admin writes", async () => {
    const { app, lines } = await setUp();
    const alice = { authorization: basic("alice", "alice-pw") };
    expect((await app.request("/topics/orders", { method: "POST", headers: alice })).status).toBe(200);
    const denied = await app.request("/topics/payments", { method: "POST", headers: alice });
    expect([denied.status, (await json(denied)).error_code]).toEqual([403, 40301]);
    expect((await app.request("/v3/clusters/k/topics/team.a", { method: "DELETE", headers: alice })).status).toBe(200);
    expect((await app.request("/v3/clusters/k/topics/other", { method: "DELETE", headers: alice })).status).toBe(403);
    const create = (name: string) =>
      app.request("/v3/clusters/k/topics", {
        method: "POST",
        headers: { ...alice, "content-type": "application/json" },
        body: JSON.stringify({ topic_name: name, partitions_count: 1 }),
      });
    expect((await create("team.new")).status).toBe(200);
    expect((await create("elsewhere")).status).toBe(403);
    expect(lines.filter((l) => l.audit).map((l) => [l.principal, l.method, l.resource, l.outcome])).toEqual([
      ["alice", "POST", "topic:payments", "denied"],
      ["alice", "DELETE", "topic:team.a", "success"],
      ["alice", "DELETE", "topic:other", "denied"],
      ["alice", "POST", "cluster", "success"],
      ["alice", "POST", "cluster", "denied"],
    ]);
  });

  it("rate-limits per principal with 429, Retry-After and X-RateLimit-*", async () => {
    const { app, security } = await setUp({ "rate.limit.principal.requests.per.second": "2" });
    const svc = { "x-api-key": "k1.key-secret" };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await app.request("/", { headers: svc })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await app.request("/", { headers: svc });
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(limited.headers.get("x-ratelimit-limit")).toBe("2");
    expect((await json(limited)).error_code).toBe(429);
    await security.close();
  });
});
