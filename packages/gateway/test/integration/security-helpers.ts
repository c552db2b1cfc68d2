/** In-process gateways with security settings, TLS-aware HTTP calls, and test credentials. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { createTestCa, type TestCa } from "../../../../deploy/stack/index.ts";
import { createGateway, parseConfig } from "../../src/index.ts";
import { silentLogger } from "../../src/log.ts";
import { hashSecret } from "../../src/security/authentication/credentials-file.ts";
import type { HttpResult } from "./helpers.ts";
import { call, stack } from "./helpers.ts";

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `wharf-${prefix}-`));

export interface RunningGateway {
  url: string;
  internalUrl: string | null;
  close(): Promise<void>;
}

/** A gateway in this process on free ports, bootstrapped from the stack's PLAINTEXT listener. */
export async function startGateway(props: Record<string, string>): Promise<RunningGateway> {
  const gateway = await createGateway(
    parseConfig({
      "bootstrap.servers": stack().kafka,
      listeners: "http://127.0.0.1:0",
      "log.level": "error",
      ...props,
    }),
    { audit: silentLogger },
  );
  const { url, internalUrl } = await gateway.listen();
  return { url, internalUrl, close: () => gateway.close() };
}

export interface TlsClient {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

const agents = new Map<string, Agent>();

/** Like helpers.call, over TLS with the given CA and client certificate. */
export async function secureCall(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string | Buffer | object; tls?: TlsClient } = {},
): Promise<HttpResult> {
  const tlsKey = JSON.stringify(options.tls ?? {});
  let dispatcher = agents.get(tlsKey);
  if (!dispatcher) {
    dispatcher = new Agent({ connect: { ...options.tls } });
    agents.set(tlsKey, dispatcher);
  }
  return call(method, url, { headers: options.headers, body: options.body, dispatcher });
}

export async function closeAgents(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close()));
  agents.clear();
}

export const basicAuth = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

/** A credentials file, an API key file and a rules file in `dir`; returns their paths. */
export async function writeCredentials(
  dir: string,
  users: Record<string, { password: string; groups?: string[] }>,
  apiKeys: Record<string, { secret: string; principal: string }>,
  rules: string,
): Promise<{ users: string; apiKeys: string; rules: string }> {
  const paths = { users: join(dir, "users"), apiKeys: join(dir, "api-keys"), rules: join(dir, "rules") };
  const userLines = await Promise.all(
    Object.entries(users).map(
      async ([name, u]) => `${name}:${await hashSecret(u.password, 10)}:${(u.groups ?? []).join(",")}`,
    ),
  );
  const keyLines = await Promise.all(
    Object.entries(apiKeys).map(async ([id, k]) => `${id}:${await hashSecret(k.secret, 10)}:${k.principal}`),
  );
  writeFileSync(paths.users, `${userLines.join("\n")}\n`);
  writeFileSync(paths.apiKeys, `${keyLines.join("\n")}\n`);
  writeFileSync(paths.rules, rules);
  return paths;
}

export async function testCa(dir: string): Promise<TestCa> {
  return createTestCa(join(dir, "ca"));
}
