/** The registry client: credentials as configured, TLS, failover between URLs, and what it counts. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Counter, Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../config.ts";
import { RestError } from "../errors.ts";
import { createSchemaRegistry } from "./registry-client.ts";
import type { SchemaRegistryConfig } from "./settings.ts";
import { type FakeRegistry, startFakeRegistry } from "./testing.ts";

let fake: FakeRegistry;
beforeAll(async () => {
  fake = await startFakeRegistry();
});
afterAll(async () => {
  await fake.close();
});

const settings = (props: Record<string, string>) =>
  parseConfig({ "bootstrap.servers": "k:9092", ...props }).schemaRegistry as SchemaRegistryConfig;
const counter = () => new Counter({ name: "c", help: "h", labelNames: ["outcome"], registers: [new Registry()] });
const counted = async (c: Counter<"outcome">) =>
  Object.fromEntries((await c.get()).values.map((v) => [v.labels.outcome as string, v.value]));

describe("schema registry client", () => {
  it("sends basic auth from USER_INFO and from the URL's user info", async () => {
    const id = fake.register("auth-value", '"int"');
    const port = new URL(fake.url).port;
    const cases: Array<Record<string, string>> = [
      {
        "schema.registry.url": fake.url,
        "schema.registry.basic.auth.credentials.source": "USER_INFO",
        "schema.registry.basic.auth.user.info": "ann:pw",
      },
      {
        "schema.registry.url": `http://ann:pw@127.0.0.1:${port}`,
        "schema.registry.basic.auth.credentials.source": "URL",
      },
    ];
    for (const props of cases) {
      const client = createSchemaRegistry(settings(props), counter());
      await client.byId(id);
      expect(fake.authorizations.at(-1)).toBe(`Basic ${Buffer.from("ann:pw").toString("base64")}`);
      client.close();
    }
  });

  it("sends a static bearer token", async () => {
    const id = fake.register("bearer-value", '"long"');
    const client = createSchemaRegistry(
      settings({
        "schema.registry.url": fake.url,
        "schema.registry.bearer.auth.credentials.source": "STATIC_TOKEN",
        "schema.registry.bearer.auth.token": "s3cret",
      }),
      counter(),
    );
    await client.byId(id);
    expect(fake.authorizations.at(-1)).toBe("Bearer s3cret");
    client.close();
  });

  it("fails over to the next URL, and counts what went over the wire by outcome", async () => {
    const id = fake.register("failover-value", '"string"');
    const requests = counter();
    // Port 9 on loopback: nothing listens there.
    const client = createSchemaRegistry(
      settings({ "schema.registry.url": `http://127.0.0.1:9,${fake.url}` }),
      requests,
    );
    expect((await client.byId(id)).schema).toBe('"string"');
    await client.byId(id);
    await expect(client.byId(424242)).rejects.toSatisfy((e) => e instanceof RestError && e.errorCode === 42207);
    const outcomes = await counted(requests);
    expect(outcomes.ok).toBe(1);
    expect(outcomes.unreachable).toBeGreaterThanOrEqual(1);
    expect(outcomes.client_error).toBeGreaterThanOrEqual(1);
    client.close();
  });

  it("answers a registry that is down with a retriable 503, within its timeout", async () => {
    const client = createSchemaRegistry(
      settings({ "schema.registry.url": "http://127.0.0.1:9", "schema.registry.request.timeout.ms": "500" }),
      counter(),
    );
    await expect(client.byId(1)).rejects.toSatisfy(
      (e) => e instanceof RestError && e.status === 503 && e.headers["Retry-After"] === "1",
    );
    client.close();
  });
});

describe("schema registry client over TLS", () => {
  const dir = mkdtempSync(join(tmpdir(), "wharf-sr-tls-"));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  let tlsFake: FakeRegistry;

  beforeAll(async () => {
    // A throw-away CA signing the registry's certificate (127.0.0.1) and a client certificate.
    openssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=test CA",
      "-keyout",
      file("ca.key"),
      "-out",
      file("ca.pem"),
    );
    for (const [name, ext] of [
      ["server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"],
      ["client", "extendedKeyUsage=clientAuth\n"],
    ] as const) {
      writeFileSync(file(`${name}.ext`), ext);
      openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        `/CN=${name}`,
        "-keyout",
        file(`${name}.key`),
        "-out",
        file(`${name}.csr`),
      );
      openssl(
        "x509",
        "-req",
        "-in",
        file(`${name}.csr`),
        "-CA",
        file("ca.pem"),
        "-CAkey",
        file("ca.key"),
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        file(`${name}.ext`),
        "-out",
        file(`${name}.pem`),
      );
    }
    const read = (name: string) => readFileSync(file(name), "utf8");
    tlsFake = await startFakeRegistry({ cert: read("server.pem"), key: read("server.key"), clientCa: read("ca.pem") });
  });
  afterAll(async () => {
    await tlsFake?.close();
  });

  it("trusts the configured CA and presents the client certificate", async () => {
    const id = tlsFake.register("tls-value", '"int"');
    const client = createSchemaRegistry(
      settings({
        "schema.registry.url": tlsFake.url,
        "schema.registry.ssl.ca.location": file("ca.pem"),
        "schema.registry.ssl.certificate.location": file("client.pem"),
        "schema.registry.ssl.key.location": file("client.key"),
      }),
      counter(),
    );
    expect((await client.byId(id)).schema).toBe('"int"');
    client.close();
  });

  it("refuses the registry without the CA, and the registry refuses a client without a certificate", async () => {
    const id = tlsFake.register("tls2-value", '"long"');
    const cases: Array<Record<string, string>> = [
      { "schema.registry.url": tlsFake.url },
      { "schema.registry.url": tlsFake.url, "schema.registry.ssl.ca.location": file("ca.pem") },
    ];
    for (const props of cases) {
      const client = createSchemaRegistry(
        settings({ ...props, "schema.registry.request.timeout.ms": "2000" }),
        counter(),
      );
      await expect(client.byId(id)).rejects.toSatisfy((e) => e instanceof RestError && e.status === 503);
      client.close();
    }
  });
});
