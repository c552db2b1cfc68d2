/**
 * Values the chart must refuse at install time: shapes and ranges through values.schema.json,
 * combinations that cannot work through the templates, each with a message that names the problem.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { helmBinary, template } from "./helm.ts";

beforeAll(() => void helmBinary(), 900_000);

const minimal = ["01-minimal-values.yaml"];

async function refusal(values: object): Promise<string> {
  const result = await template({ ciFiles: minimal, values });
  expect(result.ok, `helm accepted ${JSON.stringify(values)}`).toBe(false);
  return result.stderr;
}

describe("values.schema.json refuses", () => {
  it.each([
    ["a negative replicaCount", { replicaCount: -1 }, "/replicaCount"],
    ["an unknown image pull policy", { image: { pullPolicy: "Sometimes" } }, "/image/pullPolicy"],
    ["a misspelt top-level key", { replicas: 3 }, "replicas"],
    ["a misspelt nested key", { kafka: { bootstrapServer: "k:9092" } }, "bootstrapServer"],
    ["brokers without a port", { kafka: { bootstrapServers: "kafka" } }, "/kafka/bootstrapServers"],
    ["an unknown security protocol", { kafka: { securityProtocol: "TLS" } }, "/kafka/securityProtocol"],
    ["an unknown SASL mechanism", { kafka: { sasl: { mechanism: "GSSAPI" } } }, "/kafka/sasl/mechanism"],
    ["an unknown log level", { logLevel: "verbose" }, "/logLevel"],
    ["a port out of range", { ports: { http: 70000 } }, "/ports/http"],
    ["an unknown Service type", { service: { type: "ExternalName" } }, "/service/type"],
    ["a probe endpoint override", { readinessProbe: { httpGet: { path: "/" } } }, "httpGet"],
    ["a scrape interval without a unit", { serviceMonitor: { interval: "30" } }, "/serviceMonitor/interval"],
    ["an error ratio above 1", { prometheusRule: { errorRatio: 5 } }, "/prometheusRule/errorRatio"],
    ["a short cluster secret", { clusterSecret: "short" }, "/clusterSecret"],
    ["a Redis URL of another scheme", { externalRedis: { url: "http://redis:6379" } }, "/externalRedis/url"],
    ["a Redis password a URL would mangle", { redis: { password: "p@ss/word" } }, "/redis/password"],
    ["a password in the ConfigMap", { config: { "client.sasl.password": "x" } }, "client.sasl.password"],
    ["a multi-line setting", { config: { "producer.linger.ms": "5\nlisteners=x" } }, "producer.linger.ms"],
    ["a negative shutdown timeout", { shutdown: { timeoutSeconds: -1 } }, "/shutdown/timeoutSeconds"],
    [
      "a PDB budget that is neither a count nor a percentage",
      { podDisruptionBudget: { maxUnavailable: "half" } },
      "/podDisruptionBudget/maxUnavailable",
    ],
  ])("%s", async (_name, values, fragment) => {
    const message = await refusal(values);
    expect(message).toContain("values don't meet the specifications of the schema");
    expect(message).toContain(fragment);
  });
});

describe("the templates refuse combinations that cannot work", () => {
  it.each([
    ["several gateways without Redis", { replicaCount: 3 }, "needs Redis"],
    ["autoscaling without Redis", { autoscaling: { enabled: true } }, "needs Redis"],
    [
      "both Redis options",
      { redis: { enabled: true }, externalRedis: { enabled: true, url: "redis://r:6379" } },
      "exclude each other",
    ],
    ["an external Redis without a URL", { externalRedis: { enabled: true } }, "externalRedis.url"],
    [
      "a grace period shorter than preStop + shutdown timeout",
      { terminationGracePeriodSeconds: 30 },
      "terminationGracePeriodSeconds (30) must be at least",
    ],
    ["SASL without credentials", { kafka: { securityProtocol: "SASL_SSL" } }, "kafka.sasl.username"],
    [
      "secrets in values next to existingSecret",
      { existingSecret: "mine", clusterSecret: "0123456789abcdef" },
      "belong in that Secret",
    ],
    [
      "TLS material with a plaintext protocol",
      { kafka: { tls: { existingSecret: "kafka-tls" } } },
      "kafka.securityProtocol is PLAINTEXT",
    ],
    [
      "a client certificate without its key",
      { kafka: { securityProtocol: "SSL", tls: { existingSecret: "kafka-tls", certKey: "tls.crt" } } },
      "go together",
    ],
    [
      "a setting the chart derives itself",
      { config: { listeners: "http://0.0.0.0:1" } },
      "config.listeners is set by the chart",
    ],
    [
      "autoscaling with no target",
      { redis: { enabled: true }, autoscaling: { enabled: true, targetCPUUtilizationPercentage: null } },
      "autoscaling needs",
    ],
  ])("%s", async (_name, values, fragment) => {
    expect(await refusal(values)).toContain(fragment);
  });

  it("and say what is missing when Kafka's address is not given", async () => {
    const result = await template({});
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain("kafka.bootstrapServers is required");
  });
});
