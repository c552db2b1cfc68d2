/** schema.registry.* settings: Confluent's names, validated once, every problem named. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../config.ts";
import { parseSchemaRegistry } from "./settings.ts";

const parse = (props: Record<string, string>) => {
  const problems: string[] = [];
  return { config: parseSchemaRegistry(props, problems), problems };
};

describe("schema registry settings", () => {
  it("is off without a URL, and takes a comma list with defaults otherwise", () => {
    expect(parse({}).config).toBeNull();
    const { config, problems } = parse({ "schema.registry.url": "http://a:8081/, https://b:8081" });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      urls: ["http://a:8081", "https://b:8081"],
      basicAuth: null,
      bearer: null,
      keySubjectNameStrategy: "TOPIC_NAME",
      valueSubjectNameStrategy: "TOPIC_NAME",
      requestTimeoutMs: 10000,
      tls: { ca: null, cert: null, key: null, checkHostname: true },
    });
  });

  it("reads basic auth from USER_INFO or from the URL, which then loses its credentials", () => {
    const info = parse({
      "schema.registry.url": "http://sr:8081",
      "schema.registry.basic.auth.credentials.source": "USER_INFO",
      "schema.registry.basic.auth.user.info": "fred:secret",
    });
    expect(info.config?.basicAuth).toBe("fred:secret");
    const url = parse({
      "schema.registry.url": "http://fred:s%40cret@sr:8081",
      "schema.registry.basic.auth.credentials.source": "URL",
    });
    expect(url.config?.basicAuth).toBe("fred:s@cret");
    expect(url.config?.urls).toEqual(["http://sr:8081"]);
  });

  it("takes a static bearer token and refuses it beside basic auth", () => {
    const ok = parse({
      "schema.registry.url": "http://sr:8081",
      "schema.registry.bearer.auth.credentials.source": "STATIC_TOKEN",
      "schema.registry.bearer.auth.token": "t0k",
      "schema.registry.bearer.auth.logical.cluster": "lsrc-1",
    });
    expect(ok.config?.bearer).toEqual({ token: "t0k", logicalCluster: "lsrc-1", identityPoolId: null });
    const both = parse({
      "schema.registry.url": "http://u:p@sr:8081",
      "schema.registry.bearer.auth.token": "t0k",
    });
    expect(both.problems.join()).toContain("exclusive");
  });

  it("maps Confluent's strategy class names and short names", () => {
    const { config } = parse({
      "schema.registry.url": "http://sr:8081",
      "schema.registry.key.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy",
      "schema.registry.value.subject.name.strategy": "TopicRecordNameStrategy",
    });
    expect(config?.keySubjectNameStrategy).toBe("RECORD_NAME");
    expect(config?.valueSubjectNameStrategy).toBe("TOPIC_RECORD_NAME");
  });

  it("reads PEM files once and names every problem", () => {
    const dir = mkdtempSync(join(tmpdir(), "wharf-sr-"));
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    const tls = parse({
      "schema.registry.url": "https://sr:8081",
      "schema.registry.ssl.ca.location": join(dir, "ca.pem"),
      "schema.registry.ssl.endpoint.identification.algorithm": "",
    });
    expect(tls.config?.tls).toMatchObject({ ca: "-----BEGIN CERTIFICATE-----\n", checkHostname: false });
    const bad = parse({
      "schema.registry.url": "ftp://sr, http://ok:1",
      "schema.registry.basic.auth.credentials.source": "SASL_INHERIT",
      "schema.registry.bearer.auth.credentials.source": "OAUTHBEARER",
      "schema.registry.ssl.certificate.location": join(dir, "missing.pem"),
      "schema.registry.value.subject.name.strategy": "Nope",
      "schema.registry.request.timeout.ms": "soon",
    });
    expect(bad.problems).toHaveLength(6);
  });

  it("is part of the gateway's config, and an unknown schema.registry.* key is refused", () => {
    const config = parseConfig({ "bootstrap.servers": "k:9092", "schema.registry.url": "http://sr:8081" });
    expect(config.schemaRegistry?.urls).toEqual(["http://sr:8081"]);
    expect(() =>
      parseConfig({
        "bootstrap.servers": "k:9092",
        "schema.registry.url": "http://sr:8081",
        "schema.registry.nope": "1",
      }),
    ).toThrow(ConfigError);
  });
});
