/**
 * Wharf to Kafka over the stack's SASL_SSL listener (--sasl-ssl), with PLAIN, SCRAM-SHA-256,
 * SCRAM-SHA-512 and OAUTHBEARER (librdkafka's unsecured tokens, checked by Kafka's unsecured
 * validator), and over its OIDC listener with OAUTHBEARER OIDC (client-credentials tokens from a
 * token endpoint in this process, checked by Kafka against the stack's JWKS): librdkafka producers
 * and consumers through client.* settings, and the admin client from the same settings.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OAUTHBEARER_SCOPE } from "../../../../deploy/stack/kafka-config.ts";
import { createGateway } from "../../src/gateway.ts";
import { parseConfig } from "../../src/index.ts";
import { messageChain } from "../../src/kafka/admin/errors.ts";
import { createKafkaAdmin } from "../../src/kafka/admin-client.ts";
import { silentLogger } from "../../src/log.ts";
import { eventually, json, v3 } from "./admin-helpers.ts";
import { createConsumer, instanceCall, readUntil } from "./consumer-helpers.ts";
import { call, createTopic, stack, unique } from "./helpers.ts";
import { startTokenEndpoint, type TokenEndpoint } from "./oidc-token-endpoint.ts";
import { type RunningGateway, startGateway } from "./security-helpers.ts";

const sasl = () => {
  const info = stack().saslSsl;
  if (!info) throw new Error("the test stack was started without --sasl-ssl");
  return info;
};
/** The stack's SASL user has the same password for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
const saslProps = (mechanism: string, password: string) => ({
  "bootstrap.servers": sasl().bootstrap,
  "client.security.protocol": "SASL_SSL",
  "client.sasl.mechanisms": mechanism,
  "client.sasl.username": sasl().username,
  "client.sasl.password": password,
  "client.ssl.ca.location": sasl().caFile,
});
/** `principal=... scope=...`: the stack's SASL user is a super user, any other subject has no ACLs. */
const oauthProps = (tokenConfig: string) => ({
  "bootstrap.servers": sasl().bootstrap,
  "client.security.protocol": "SASL_SSL",
  "client.sasl.mechanisms": "OAUTHBEARER",
  "client.enable.sasl.oauthbearer.unsecure.jwt": "true",
  "client.sasl.oauthbearer.config": tokenConfig,
  "client.ssl.ca.location": sasl().caFile,
});

const PASSWORD_MECHANISMS = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] as const;

describe.each(PASSWORD_MECHANISMS)("Kafka over SASL_SSL with %s", (mechanism) => {
  const props = (password: string) => saslProps(mechanism, password);
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway(props(sasl().password));
  });
  afterAll(() => gateway?.close());

  it("produces and consumes with the right password", async () => {
    await expectProduceAndConsume(gateway.url, `sasl-${mechanism.toLowerCase()}`);
  });

  it("gives the admin client the same TLS and SASL settings", async () => {
    await expectAdminAccepts(props(sasl().password), props("not-the-password"));
  });
});

describe("Kafka over SASL_SSL with a wrong password", () => {
  // Each refusal waits out a producer's connection timeout (15 s): side by side they cost one wait.
  it.concurrent.each(PASSWORD_MECHANISMS)(
    "%s: the gateway stays not-ready and produce answers a retriable 503",
    async (mechanism) => {
      await expectNotReady(saslProps(mechanism, "not-the-password"));
    },
  );
});

describe("Kafka over SASL_SSL with OAUTHBEARER", () => {
  const wharfToken = () => `principal=${sasl().username} scope=${OAUTHBEARER_SCOPE}`;
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway(oauthProps(wharfToken()));
  });
  afterAll(() => gateway?.close());

  it("produces and consumes with a token that holds the required scope", async () => {
    await expectProduceAndConsume(gateway.url, "oauth");
  });

  it("gives the admin client an equivalent token, refused by the broker without the scope", async () => {
    const withoutScope = oauthProps(`principal=${sasl().username} scope=other`);
    await expectAdminAccepts(oauthProps(wharfToken()), withoutScope);
    // The broker's answer is what fails the connection, not a confused request after it.
    expect(await adminRefusal(withoutScope)).toContain(
      'Kafka refused the OAUTHBEARER token: {"status":"insufficient_scope"',
    );
  });

  it("refuses a token without the required scope: the gateway stays not-ready and produce answers a retriable 503", async () => {
    await expectNotReady(oauthProps(`principal=${sasl().username}`));
  });

  it("authorizes the token's subject: its ACLs allow one topic and refuse another with 403 / 40301", async () => {
    const principal = unique("tenant");
    const allowed = await createTopic(unique("oauth-acl-ok"), 1);
    const refused = await createTopic(unique("oauth-acl-no"), 1);
    const hidden = await createTopic(unique("oauth-acl-hidden"), 1);
    for (const [topic, operation] of [
      [allowed, "WRITE"],
      [allowed, "DESCRIBE"],
      [refused, "DESCRIBE"],
    ] as const) {
      const created = await json("POST", await v3("/acls"), {
        resource_type: "TOPIC",
        resource_name: topic,
        pattern_type: "LITERAL",
        principal: `User:${principal}`,
        host: "*",
        operation,
        permission: "ALLOW",
      });
      expect(created.status, created.text).toBe(201);
    }
    const tenant = await startGateway(oauthProps(`principal=${principal} scope=${OAUTHBEARER_SCOPE}`));
    try {
      expect(await readyStatus(tenant.url)).toBe(200);
      const produce = (topic: string) =>
        call("POST", `${tenant.url}/topics/${topic}`, {
          headers: { "content-type": "application/vnd.kafka.json.v2+json" },
          body: { records: [{ value: { n: 1 } }] },
        });
      // The ACLs reach every broker through the metadata log within moments of their creation.
      const written = await eventually(async () => {
        const res = await produce(allowed);
        expect(res.status, res.text).toBe(200);
        return res;
      });
      expect(written.json.offsets[0]).toMatchObject({ partition: 0, error_code: null });
      const denied = await produce(refused);
      expect(denied.status, denied.text).toBe(403);
      expect(denied.json.offsets.map((o: { error_code: unknown }) => o.error_code)).toEqual([40301]);
      // The refusal is the record's, not the connection's: the same producer goes on writing.
      expect((await produce(allowed)).status).toBe(200);

      // A topic the subject may not even describe looks missing in librdkafka's metadata; Kafka
      // says why, and so does Wharf, for a topic that exists and for one that does not (Kafka does
      // not tell the two apart for such a subject): 403 / 40301 for the whole request.
      for (const topic of [hidden, unique("oauth-acl-none")]) {
        const res = await produce(topic);
        expect(res.status, res.text).toBe(403);
        expect(res.json).toEqual({ error_code: 40301, message: expect.stringMatching(/authoriz/i) });
        const v3res = await call("POST", `${tenant.url}/v3/clusters/any/topics/${topic}/records`, {
          headers: { "content-type": "application/json" },
          body: { value: { type: "JSON", data: 1 } },
        });
        expect(v3res.status, v3res.text).toBe(200);
        expect(JSON.parse(v3res.text.trim())).toMatchObject({ error_code: 40301 });
      }
    } finally {
      await tenant.close();
    }
  });
});

describe("Kafka over SASL_SSL with OAUTHBEARER OIDC (client credentials, tokens checked against a JWKS)", () => {
  let endpoint: TokenEndpoint;
  let gateway: RunningGateway;
  beforeAll(async () => {
    endpoint = await startStackTokenEndpoint({ key: stackSigningKey() });
    gateway = await startGateway(oidcProps(endpoint.url));
  });
  afterAll(async () => {
    await gateway?.close();
    await endpoint?.close();
  });

  it("produces and consumes with tokens librdkafka fetched from the token endpoint", async () => {
    await expectProduceAndConsume(gateway.url, "oidc");
    expect(endpoint.issued()).toBeGreaterThan(0);
  });

  it("gives the admin client the same client credentials, refused by the broker for a token it cannot verify", async () => {
    const forged = await startStackTokenEndpoint({ key: otherSigningKey() });
    try {
      await expectAdminAccepts(oidcProps(endpoint.url), oidcProps(forged.url));
      // The admin client asked the token endpoint itself, and the broker refused what it got.
      expect(forged.issued()).toBeGreaterThan(0);
      expect(await adminRefusal(oidcProps(forged.url))).toContain(
        'Kafka refused the OAUTHBEARER token: {"status":"invalid_token"',
      );
    } finally {
      await forged.close();
    }
  });
});

describe("Kafka over SASL_SSL with OIDC tokens the brokers refuse", () => {
  const cases: [string, () => StackTokenOptions][] = [
    ["a token signed with another key", () => ({ key: otherSigningKey() })],
    ["a token for another audience", () => ({ key: stackSigningKey(), audience: "someone-else" })],
  ];
  // Each refusal waits out a producer's connection timeout (15 s): side by side they cost one wait.
  it.concurrent.each(cases)(
    "%s: the gateway stays not-ready and produce answers a retriable 503",
    async (_, options) => {
      const endpoint = await startStackTokenEndpoint(options());
      try {
        await expectNotReady(oidcProps(endpoint.url));
        // The token endpoint answered: the refusal is the broker's.
        expect(endpoint.issued()).toBeGreaterThan(0);
      } finally {
        await endpoint.close();
      }
    },
  );
});

async function expectProduceAndConsume(url: string, prefix: string): Promise<void> {
  const topic = await createTopic(unique(prefix), 1);
  expect(await readyStatus(url)).toBe(200);
  const produced = await call("POST", `${url}/topics/${topic}`, {
    headers: { "content-type": "application/vnd.kafka.json.v2+json" },
    body: { records: [{ value: { n: 1 } }, { value: { n: 2 } }] },
  });
  expect(produced.status).toBe(200);
  expect(produced.json.offsets.map((o: { error_code: unknown }) => o.error_code)).toEqual([null, null]);

  const consumer = await createConsumer(url, unique(`${prefix}-g`), "c1", { format: "json" });
  await instanceCall(consumer, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] });
  await instanceCall(consumer, "POST", "/positions/beginning", { partitions: [{ topic, partition: 0 }] });
  expect((await readUntil(consumer, 2)).map((r) => r.value)).toEqual([{ n: 1 }, { n: 2 }]);
  await instanceCall(consumer, "DELETE", "");
}

/** The admin client built from `good` reads the cluster id; the one from `bad` fails with a 503. */
async function expectAdminAccepts(good: Record<string, string>, bad: Record<string, string>): Promise<void> {
  const accepted = createKafkaAdmin(parseConfig(good));
  const refused = createKafkaAdmin(parseConfig(bad));
  try {
    expect(await accepted.clusterId()).toMatch(/^[\w-]{22}$/);
    await expect(refused.clusterId()).rejects.toMatchObject({ status: 503 });
  } finally {
    await Promise.all([accepted.close(), refused.close()]);
  }
}

async function expectNotReady(props: Record<string, string>): Promise<void> {
  const config = parseConfig({ ...props, listeners: "http://127.0.0.1:0", "log.level": "error" });
  const gateway = await createGateway(config, { log: silentLogger, audit: silentLogger });
  const { url } = await gateway.listen();
  try {
    const ready = await call("GET", `${url}/readyz`);
    expect(ready.status).toBe(503);
    const produced = await call("POST", `${url}/topics/anything`, {
      headers: { "content-type": "application/vnd.kafka.json.v2+json" },
      body: { records: [{ value: 1 }] },
    });
    expect([produced.status, produced.json.error_code]).toEqual([503, 503]);
    // By now a gateway with the right credentials would long be ready.
    expect((await call("GET", `${url}/readyz`)).status).toBe(503);
  } finally {
    await gateway.close();
  }
}

/** The stack's OIDC listener, with librdkafka fetching tokens from `tokenUrl` (client-credentials grant). */
const oidcProps = (tokenUrl: string) => ({
  "bootstrap.servers": sasl().oidc.bootstrap,
  "client.security.protocol": "SASL_SSL",
  "client.sasl.mechanisms": "OAUTHBEARER",
  "client.sasl.oauthbearer.method": "oidc",
  "client.sasl.oauthbearer.token.endpoint.url": tokenUrl,
  "client.sasl.oauthbearer.client.id": OIDC_CLIENT.id,
  "client.sasl.oauthbearer.client.secret": OIDC_CLIENT.secret,
  "client.ssl.ca.location": sasl().caFile,
});

const OIDC_CLIENT = { id: "wharf-gateway", secret: "oidc-client-secret" };
const stackSigningKey = () => createPrivateKey(readFileSync(sasl().oidc.privateKeyFile));
const otherSigningKey = () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;

interface StackTokenOptions {
  key: KeyObject;
  /** The stack's expected audience unless given. */
  audience?: string;
}

/** A token endpoint for the stack's OIDC listener: its kid, issuer and audience, the stack's SASL user. */
const startStackTokenEndpoint = (options: StackTokenOptions) =>
  startTokenEndpoint({
    key: options.key,
    kid: sasl().oidc.kid,
    issuer: sasl().oidc.issuer,
    audience: options.audience ?? sasl().oidc.audience,
    subject: sasl().username,
    scope: OAUTHBEARER_SCOPE,
    client: OIDC_CLIENT,
  });

/** Why the admin client cannot read metadata with these settings: every message of the failure. */
async function adminRefusal(props: Record<string, string>): Promise<string> {
  const admin = createKafkaAdmin(parseConfig(props));
  try {
    const error = await admin.client.metadata({ topics: [] }).then(
      () => null,
      (e: unknown) => e,
    );
    return messageChain(error);
  } finally {
    await admin.close();
  }
}

/** /readyz once Kafka answered, or its last status after 30 s (producers connect in the background). */
async function readyStatus(url: string): Promise<number> {
  let status = 0;
  for (let i = 0; i < 60 && status !== 200; i++) {
    status = (await call("GET", `${url}/readyz`)).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 500));
  }
  return status;
}
