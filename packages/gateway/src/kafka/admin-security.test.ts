import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../config.ts";
import {
  adminSecurityOptions,
  KafkaSecurityError,
  oauthbearerProblem,
  parseUnsecuredJwtConfig,
  unsecuredJwt,
} from "./admin-security.ts";

const oauth = (config: string, extra: Record<string, string> = {}) => ({
  "security.protocol": "SASL_PLAINTEXT",
  "sasl.mechanisms": "OAUTHBEARER",
  "enable.sasl.oauthbearer.unsecure.jwt": "true",
  "sasl.oauthbearer.config": config,
  ...extra,
});

function decode(token: string): { header: unknown; claims: Record<string, unknown>; signature: string } {
  const [header, claims, signature, ...rest] = token.split(".");
  expect(rest).toEqual([]);
  const json = (part: string | undefined) => JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
  return { header: json(header), claims: json(claims), signature: signature ?? "" };
}

function refusal(config: string): string {
  try {
    parseUnsecuredJwtConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(KafkaSecurityError);
    return (error as Error).message;
  }
  throw new Error(`expected "${config}" to be refused`);
}

describe("parseUnsecuredJwtConfig", () => {
  it("fills librdkafka's defaults around the principal", () => {
    expect(parseUnsecuredJwtConfig("principal=wharf")).toEqual({
      principalClaimName: "sub",
      principal: "wharf",
      scopeClaimName: "scope",
      scope: [],
      lifeSeconds: 3600,
      extensions: {},
    });
  });

  it("reads every setting, in any order and with extra spaces", () => {
    const config = parseUnsecuredJwtConfig(
      "  scope=write,,read,write lifeSeconds=60 principalClaimName=user  principal=alice scopeClaimName=scp extension_traceId=a=b ",
    );
    expect(config).toEqual({
      principalClaimName: "user",
      principal: "alice",
      scopeClaimName: "scp",
      // Empty entries and repeats dropped, as librdkafka does.
      scope: ["write", "read"],
      lifeSeconds: 60,
      extensions: { traceId: "a=b" },
    });
  });

  it("refuses what librdkafka refuses, naming the problem", () => {
    expect(refusal("")).toMatch(/no principal=<name>/);
    expect(refusal("scope=a")).toMatch(/no principal=<name>/);
    expect(refusal("principal=a user=b")).toMatch(/unknown entry "user=b"/);
    expect(refusal("principal=a scope")).toMatch(/unknown entry "scope"/);
    expect(refusal("principal=a principal=b")).toMatch(/more than one principal=/);
    expect(refusal("principal=a scope=")).toMatch(/empty scope=/);
    expect(refusal('principal=a"b')).toMatch(/principal cannot contain '"'/);
    expect(refusal("principal=a lifeSeconds=0")).toMatch(/lifeSeconds must be a positive integer, got "0"/);
    expect(refusal("principal=a lifeSeconds=1.5")).toMatch(/lifeSeconds must be a positive integer/);
    expect(refusal("principal=a lifeSeconds=2147483648")).toMatch(/lifeSeconds must be a positive integer/);
    expect(refusal("principal=a extension_auth=x")).toMatch(/bad extension name "auth"/);
    expect(refusal("principal=a extension_trace1=x")).toMatch(/bad extension name "trace1"/);
    expect(refusal("principal=a extension_k=1 extension_k=2")).toMatch(/more than one extension_k/);
  });
});

describe("unsecuredJwt", () => {
  it("builds librdkafka's token: alg none, principal, iat and exp in seconds, scope list, no signature", () => {
    const token = unsecuredJwt(
      parseUnsecuredJwtConfig("principal=wharf scope=kafka,admin lifeSeconds=60"),
      1_700_000_000_123,
    );
    expect(decode(token)).toEqual({
      header: { alg: "none" },
      claims: { sub: "wharf", iat: 1_700_000_000.123, exp: 1_700_000_060.123, scope: ["kafka", "admin"] },
      signature: "",
    });
  });

  it("uses the configured claim names and leaves out an empty scope", () => {
    const named = unsecuredJwt(
      parseUnsecuredJwtConfig("principal=a principalClaimName=user scope=x scopeClaimName=scp"),
      0,
    );
    expect(decode(named).claims).toEqual({ user: "a", iat: 0, exp: 3600, scp: ["x"] });
    const bare = unsecuredJwt(parseUnsecuredJwtConfig("principal=a"), 0);
    expect(decode(bare).claims).toEqual({ sub: "a", iat: 0, exp: 3600 });
  });
});

describe("adminSecurityOptions with a username and password", () => {
  it.each(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])(
    "passes %s with the user's credentials, over TLS",
    (mechanism) => {
      const options = adminSecurityOptions({
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": mechanism,
        "sasl.username": "wharf",
        "sasl.password": "secret",
      });
      expect(options).toEqual({
        tls: { rejectUnauthorized: true },
        sasl: { mechanism, username: "wharf", password: "secret" },
      });
    },
  );

  it("refuses a mechanism the admin client cannot speak", () => {
    expect(() => adminSecurityOptions({ "security.protocol": "SASL_SSL", "sasl.mechanisms": "GSSAPI" })).toThrow(
      /SASL mechanism GSSAPI is not supported/,
    );
  });
});

describe("adminSecurityOptions with OAUTHBEARER", () => {
  it("gives the admin client a fresh unsecured token per connection, with the extensions", async () => {
    const { sasl } = adminSecurityOptions(oauth("principal=wharf scope=kafka extension_tenant=blue"));
    expect(sasl).toMatchObject({ mechanism: "OAUTHBEARER", oauthBearerExtensions: { tenant: "blue" } });
    const token = sasl?.token;
    if (typeof token !== "function") throw new Error("expected a token provider");
    const before = Date.now() / 1000;
    const { claims } = decode(String(await token()));
    expect(claims).toMatchObject({ sub: "wharf", scope: ["kafka"] });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.exp).toBe((claims.iat as number) + 3600);
  });

  it("fails the authentication when the broker answers with an error instead of an empty response", () => {
    const { sasl } = adminSecurityOptions(oauth("principal=wharf"));
    const validate = sasl?.authBytesValidator;
    if (!validate) throw new Error("expected an authBytesValidator");
    const results: (Error | null)[] = [];
    validate(Buffer.alloc(0), (error) => results.push(error));
    validate(Buffer.from('{"status":"insufficient_scope", "scope":"[kafka]"}'), (error) => results.push(error));
    expect(results[0]).toBeNull();
    expect(results[1]?.message).toBe(
      'Kafka refused the OAUTHBEARER token: {"status":"insufficient_scope", "scope":"[kafka]"}',
    );
  });

  it("refuses the default method without enable.sasl.oauthbearer.unsecure.jwt: librdkafka would have no token", () => {
    const props = oauth("principal=wharf", { "enable.sasl.oauthbearer.unsecure.jwt": "false" });
    expect(() => adminSecurityOptions(props)).toThrow(KafkaSecurityError);
    expect(oauthbearerProblem(props)).toMatch(
      /OAUTHBEARER needs sasl.oauthbearer.method=oidc, or enable.sasl.oauthbearer.unsecure.jwt=true/,
    );
    const { "enable.sasl.oauthbearer.unsecure.jwt": _, ...unset } = props;
    expect(oauthbearerProblem(unset)).toMatch(/enable.sasl.oauthbearer.unsecure.jwt=true/);
  });

  it("accepts OIDC without unsecured tokens", () => {
    const props = {
      ...oauth(""),
      "enable.sasl.oauthbearer.unsecure.jwt": "false",
      "sasl.oauthbearer.method": "oidc",
      "sasl.oauthbearer.token.endpoint.url": "https://idp.example/token",
    };
    expect(oauthbearerProblem(props)).toBeNull();
  });
});

describe("OAUTHBEARER OIDC for the admin client", () => {
  it("fetches a client-credentials token, keeps it until it is due for renewal, and names a refusing endpoint", async () => {
    const seen: { authorization?: string; body: string }[] = [];
    let status = 200;
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        seen.push({ authorization: req.headers.authorization, body });
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(status === 200 ? { access_token: `token-${seen.length}`, expires_in: 3600 } : {}));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    const tokenOf = (extra: Record<string, string> = {}) => {
      const sasl = adminSecurityOptions({
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "OAUTHBEARER",
        "sasl.oauthbearer.method": "oidc",
        "sasl.oauthbearer.token.endpoint.url": url,
        "sasl.oauthbearer.client.id": "wharf",
        "sasl.oauthbearer.client.secret": "s3cret",
        ...extra,
      }).sasl;
      return sasl?.token as () => Promise<string>;
    };
    try {
      const token = tokenOf({ "sasl.oauthbearer.scope": "kafka" });
      expect(await token()).toBe("token-1");
      expect(await token()).toBe("token-1");
      expect(seen).toEqual([
        {
          authorization: `Basic ${Buffer.from("wharf:s3cret").toString("base64")}`,
          body: "grant_type=client_credentials&scope=kafka",
        },
      ]);
      status = 401;
      await expect(tokenOf()()).rejects.toThrow(new KafkaSecurityError("OIDC token endpoint answered 401"));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("needs a token endpoint", () => {
    expect(() =>
      adminSecurityOptions({
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "OAUTHBEARER",
        "sasl.oauthbearer.method": "oidc",
      }),
    ).toThrow(/sasl.oauthbearer.method=oidc needs sasl.oauthbearer.token.endpoint.url/);
  });
});

describe("oauthbearerProblem", () => {
  it("has nothing to say about other mechanisms or a readable unsecured token config", () => {
    expect(oauthbearerProblem({})).toBeNull();
    expect(oauthbearerProblem({ "security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-512" })).toBeNull();
    // Without SASL the mechanism is not used, as in librdkafka.
    expect(
      oauthbearerProblem({ ...oauth("principal=a"), "security.protocol": "SSL", "sasl.oauthbearer.config": "" }),
    ).toBeNull();
    expect(oauthbearerProblem(oauth("principal=wharf scope=kafka"))).toBeNull();
  });

  it("names an unreadable token config", () => {
    expect(oauthbearerProblem(oauth("scope=kafka"))).toMatch(/invalid sasl.oauthbearer.config: no principal/);
    expect(oauthbearerProblem({ ...oauth("scope=kafka"), "sasl.mechanisms": "oauthbearer" })).toMatch(/no principal/);
  });

  it("makes parseConfig refuse the gateway's client.* and admin.* settings at start-up", () => {
    const props = {
      "bootstrap.servers": "kafka:9093",
      "client.security.protocol": "SASL_SSL",
      "client.sasl.mechanisms": "OAUTHBEARER",
      "client.sasl.oauthbearer.config": "principal=wharf",
    };
    expect(() => parseConfig(props)).toThrow(ConfigError);
    expect(() => parseConfig(props)).toThrow(
      /Kafka OAUTHBEARER \(client\.\*, admin\.\*\): sasl.mechanisms=OAUTHBEARER needs sasl.oauthbearer.method=oidc/,
    );
    expect(() => parseConfig({ ...props, "client.enable.sasl.oauthbearer.unsecure.jwt": "true" })).not.toThrow();
    // admin.* overrides client.* for the admin client, so its settings are checked too.
    expect(() =>
      parseConfig({
        ...props,
        "client.enable.sasl.oauthbearer.unsecure.jwt": "true",
        "admin.sasl.oauthbearer.config": "principal=wharf lifeSeconds=-1",
      }),
    ).toThrow(/lifeSeconds must be a positive integer, got "-1"/);
  });
});
