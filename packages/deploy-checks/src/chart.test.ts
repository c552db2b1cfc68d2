/**
 * The Helm chart, rendered with every ci/ value set: what the objects must hold for Wharf to run,
 * drain and hand off correctly, checked on helm's real output (helm lint --strict, helm template).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ciValueFiles, helmBinary, kinds, lint, type Manifest, one, render } from "./helm.ts";
import { gatewayConfig, gatewayContainer, POD_IP } from "./pod-env.ts";

// Builds helm on a fresh machine (go install: 3-8 minutes); cached afterwards.
beforeAll(() => void helmBinary(), 900_000);

// biome-ignore lint/suspicious/noExplicitAny: manifests are read field by field
type Any = any;

const podSpec = (deployment: Manifest) => deployment.spec.template.spec;
const podLabels = (deployment: Manifest): Record<string, string> => deployment.spec.template.metadata.labels;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function preStopSeconds(container: Any): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return Number(preStop.sleep.seconds);
  const command: string[] = preStop?.exec?.command ?? [];
  if (command[0] === "sleep") return Number(command[1]);
  throw new Error(`no preStop delay: ${JSON.stringify(preStop)}`);
}

describe.each(ciValueFiles())("ci/%s", (file) => {
  let manifests: Manifest[];
  let deployment: Manifest;
  let container: Any;
  beforeAll(async () => {
    manifests = await render({ ciFiles: [file] });
    deployment = one(manifests, "Deployment", "-wharf");
    container = gatewayContainer(deployment);
  });

  it("passes helm lint --strict", async () => {
    const result = await lint({ ciFiles: [file] });
    expect(result.stderr + result.stdout).toContain("0 chart(s) failed");
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it("renders objects with unique names per kind, all carrying the chart's labels", () => {
    const keys = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const m of manifests) {
      expect(m.metadata.labels?.["app.kubernetes.io/instance"], m.kind).toBe("demo");
      expect(m.metadata.labels?.["app.kubernetes.io/name"], m.kind).toBe("wharf");
      expect(m.metadata.labels?.["helm.sh/chart"], m.kind).toMatch(/^wharf-/);
    }
  });

  it("probes readiness on /readyz and liveness on /healthz, on the public port", () => {
    const http = container.ports.find((p: Any) => p.name === "http");
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.startupProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(http.containerPort).toBeGreaterThan(0);
  });

  it("gives the graceful hand-off time: grace period >= preStop delay + shutdown.timeout.ms", () => {
    const { config } = gatewayConfig(deployment, manifests, {});
    const preStop = preStopSeconds(container);
    expect(preStop).toBeGreaterThan(0);
    expect(podSpec(deployment).terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      preStop + config.shutdownTimeoutMs / 1000,
    );
  });

  it("runs non-root on a read-only root filesystem with every capability dropped", () => {
    const pod = podSpec(deployment);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    // /tmp stays writable for anything that needs scratch space.
    const tmp = container.volumeMounts.find((m: Any) => m.mountPath === "/tmp");
    expect(pod.volumes.find((v: Any) => v.name === tmp.name).emptyDir).toBeDefined();
  });

  it("keeps Kubernetes' service-link variables (WHARF_*_PORT...) out of the gateway's environment", () => {
    expect(podSpec(deployment).enableServiceLinks).toBe(false);
  });

  it("hands the gateway only settings it accepts, wired to the container's ports", () => {
    const { config, env } = gatewayConfig(deployment, manifests, {});
    const port = (name: string) => container.ports.find((p: Any) => p.name === name).containerPort;
    expect(config.listener.port).toBe(port("http"));
    expect(config.internalListener?.port).toBe(port("internal"));
    expect(config.internalAdvertisedUrl).toBe(`http://${POD_IP}:${port("internal")}`);
    expect(config.clusterSecret?.length).toBeGreaterThanOrEqual(16);
    expect(config.id).toBe(env.WHARF_ID);
    expect(config.bootstrapServers).not.toBe("");
  });

  it("uses Redis whenever more than one gateway can run", () => {
    const { config } = gatewayConfig(deployment, manifests, {});
    const hpa = manifests.find((m) => m.kind === "HorizontalPodAutoscaler");
    const several = hpa !== undefined || deployment.spec.replicas > 1;
    if (several) expect(config.redisUrl).toMatch(/^rediss?:\/\//);
    if (hpa) {
      expect(deployment.spec.replicas).toBeUndefined();
      expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: deployment.metadata.name });
    }
  });

  it("reads every TLS file the config names from a mounted Secret key", () => {
    const { properties } = gatewayConfig(deployment, manifests, {});
    const locations = [...properties.matchAll(/^client\.ssl\.\w+\.location=(.+)$/gm)].map((m) => m[1] as string);
    for (const location of locations) {
      const dir = location.slice(0, location.lastIndexOf("/"));
      const fileName = location.slice(dir.length + 1);
      const mount = container.volumeMounts.find((m: Any) => m.mountPath === dir);
      expect(mount, location).toBeDefined();
      const volume = podSpec(deployment).volumes.find((v: Any) => v.name === mount.name);
      const items: Any[] | undefined = volume.secret.items;
      if (items) expect(items.map((i) => i.path)).toContain(fileName);
      else expect(volume.secret.secretName).toBeTruthy();
    }
  });

  it("selects the gateway pods, and only them, from the Services, PDB and spread constraints", () => {
    const labels = podLabels(deployment);
    expect(matches(deployment.spec.selector.matchLabels, labels)).toBe(true);
    const service = one(manifests, "Service", "-wharf");
    const internal = one(manifests, "Service", "-internal");
    expect(matches(service.spec.selector, labels)).toBe(true);
    expect(service.spec.ports).toEqual([expect.objectContaining({ name: "http", targetPort: "http" })]);
    expect(internal.spec.clusterIP).toBe("None");
    expect(matches(internal.spec.selector, labels)).toBe(true);
    expect(internal.spec.ports).toEqual([expect.objectContaining({ name: "internal", targetPort: "internal" })]);
    for (const constraint of podSpec(deployment).topologySpreadConstraints ?? []) {
      expect(matches(constraint.labelSelector.matchLabels, labels)).toBe(true);
    }
    const pdb = manifests.find((m) => m.kind === "PodDisruptionBudget");
    if (pdb) expect(matches(pdb.spec.selector.matchLabels, labels)).toBe(true);
    const redis = manifests.find((m) => m.kind === "Deployment" && m.metadata.name.endsWith("-redis"));
    if (redis) expect(matches(service.spec.selector, podLabels(redis))).toBe(false);
  });

  it("has a helm test that produces and consumes one record through the public Service", () => {
    const test = manifests.find((m) => m.metadata.annotations?.["helm.sh/hook"] === "test");
    expect(test?.kind).toBe("Pod");
    const script: string = (test?.spec.containers[0].args ?? []).join("\n");
    const env = Object.fromEntries(test?.spec.containers[0].env.map((e: Any) => [e.name, e.value]));
    const service = one(manifests, "Service", "-wharf");
    expect(env.BASE).toBe(`http://${service.metadata.name}:${service.spec.ports[0].port}`);
    expect(script).toContain('POST "$BASE/topics/$TOPIC"');
    expect(script).toContain('POST "$BASE/consumers/$group"');
    expect(script).toContain("/records?");
  });
});

describe("optional objects", () => {
  it("the minimal install renders no HPA, monitoring, network policy or Redis", async () => {
    const manifests = await render({ ciFiles: ["01-minimal-values.yaml"] });
    expect(kinds(manifests.filter((m) => !m.metadata.annotations?.["helm.sh/hook"]))).toEqual([
      "ConfigMap",
      "Deployment",
      "PodDisruptionBudget",
      "Secret",
      "Service",
      "Service",
      "ServiceAccount",
    ]);
  });

  it("ServiceMonitor and PrometheusRule exist only when enabled, selecting the public Service's job", async () => {
    const off = await render({ ciFiles: ["01-minimal-values.yaml"] });
    expect(off.filter((m) => m.apiVersion.startsWith("monitoring.coreos.com/"))).toEqual([]);
    const on = await render({
      ciFiles: ["01-minimal-values.yaml"],
      values: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
    });
    const monitor = one(on, "ServiceMonitor");
    const service = one(on, "Service", "-wharf");
    expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels ?? {})).toBe(true);
    expect(matches(monitor.spec.selector.matchLabels, one(on, "Service", "-internal").metadata.labels ?? {})).toBe(
      false,
    );
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: "http", path: "/metrics" })]);
    const rules = one(on, "PrometheusRule");
    for (const rule of rules.spec.groups.flatMap((g: Any) => g.rules)) {
      expect(rule.expr, rule.alert).toContain(`job="${service.metadata.name}", namespace="streaming"`);
    }
  });

  it("the NetworkPolicy admits the internal port only from this release's gateway pods", async () => {
    const manifests = await render({ ciFiles: ["02-production-values.yaml"] });
    const deployment = one(manifests, "Deployment", "-wharf");
    const container = gatewayContainer(deployment);
    const port = (name: string) => container.ports.find((p: Any) => p.name === name).containerPort;
    const policy = one(manifests, "NetworkPolicy", "-wharf");
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(["Ingress"]);
    const internalRules = policy.spec.ingress.filter((r: Any) => r.ports.some((p: Any) => p.port === port("internal")));
    expect(internalRules).toHaveLength(1);
    expect(internalRules[0].from).toEqual([{ podSelector: { matchLabels: deployment.spec.selector.matchLabels } }]);
    const httpRule = policy.spec.ingress.find((r: Any) => r.ports.some((p: Any) => p.port === port("http")));
    expect(httpRule.ports).toEqual([{ port: port("http"), protocol: "TCP" }]);
    // The bundled Redis admits the gateways alone.
    const redisPolicy = one(manifests, "NetworkPolicy", "-redis");
    expect(redisPolicy.spec.ingress).toEqual([
      {
        ports: [{ port: 6379, protocol: "TCP" }],
        from: [{ podSelector: { matchLabels: deployment.spec.selector.matchLabels } }],
      },
    ]);
  });

  it("the bundled Redis is password-protected and the gateways' URL names its Service", async () => {
    const manifests = await render({ ciFiles: ["02-production-values.yaml"] });
    const { config } = gatewayConfig(one(manifests, "Deployment", "-wharf"), manifests);
    const redisService = one(manifests, "Service", "-redis");
    const redis = one(manifests, "Deployment", "-redis");
    expect(matches(redisService.spec.selector, podLabels(redis))).toBe(true);
    const url = new URL(config.redisUrl ?? "");
    expect(url.hostname).toBe(redisService.metadata.name);
    expect(Number(url.port)).toBe(redisService.spec.ports[0].port);
    expect(url.password.length).toBeGreaterThanOrEqual(16);
    const args: string[] = redis.spec.template.spec.containers[0].args;
    expect(args.slice(args.indexOf("--requirepass"), args.indexOf("--requirepass") + 2)).toEqual([
      "--requirepass",
      "$(REDIS_PASSWORD)",
    ]);
    expect(redis.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it("SASL credentials and the external Redis URL reach the gateway from the Secret, not the ConfigMap", async () => {
    const manifests = await render({ ciFiles: ["02-production-values.yaml"] });
    const { config, properties } = gatewayConfig(one(manifests, "Deployment", "-wharf"), manifests);
    expect(config.kafka.client).toMatchObject({
      "security.protocol": "SASL_SSL",
      "sasl.mechanisms": "SCRAM-SHA-512",
      "sasl.username": "wharf",
      "sasl.password": "not-a-real-password",
    });
    expect(properties).not.toContain("password");
    const external = await render({ ciFiles: ["03-external-redis-values.yaml"] });
    const fromSecret = gatewayConfig(one(external, "Deployment", "-wharf"), external);
    expect(fromSecret.config.redisUrl).toBe("redis://:redis-password@redis-master.redis.svc:6379/2");
    expect(fromSecret.properties).not.toContain("redis");
  });

  it("with existingSecret, renders no Secret and reads every key from the one named", async () => {
    const manifests = await render({
      ciFiles: ["03-external-redis-values.yaml"],
      values: { existingSecret: "wharf-credentials", externalRedis: { url: "" } },
    });
    expect(manifests.filter((m) => m.kind === "Secret")).toEqual([]);
    const deployment = one(manifests, "Deployment", "-wharf");
    const refs = gatewayContainer(deployment)
      .env.filter((e: Any) => e.valueFrom?.secretKeyRef)
      .map((e: Any) => e.valueFrom.secretKeyRef);
    expect(new Set(refs.map((r: Any) => r.name))).toEqual(new Set(["wharf-credentials"]));
    const { config } = gatewayConfig(deployment, manifests, {
      "cluster-secret": "s".repeat(32),
      "redis-url": "redis://redis.example:6379",
    });
    expect(config.redisUrl).toBe("redis://redis.example:6379");
  });

  it("an inline Kafka CA is stored in the chart's Secret and mounted where the config points", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const manifests = await render({
      ciFiles: ["01-minimal-values.yaml"],
      values: { kafka: { securityProtocol: "SSL", tls: { caCert: pem } } },
    });
    const { config } = gatewayConfig(one(manifests, "Deployment", "-wharf"), manifests);
    expect(config.kafka.client["ssl.ca.location"]).toBe("/etc/wharf/kafka-tls/ca.crt");
    expect(Buffer.from(one(manifests, "Secret").data["kafka-ca.crt"], "base64").toString()).toBe(pem);
  });

  it("before Kubernetes 1.30 the preStop delay runs sleep in the container", async () => {
    const manifests = await render({ ciFiles: ["01-minimal-values.yaml"], kubeVersion: "1.29.0" });
    expect(gatewayContainer(one(manifests, "Deployment", "-wharf")).lifecycle.preStop).toEqual({
      exec: { command: ["sleep", "10"] },
    });
  });

  it("prints whole-number settings as integers, not in Go's float notation", async () => {
    const manifests = await render({ ciFiles: ["02-production-values.yaml"] });
    const { config } = gatewayConfig(one(manifests, "Deployment", "-wharf"), manifests);
    expect(config.produce.maxInflightBytes).toBe(268_435_456);
    expect(config.kafka.producer["linger.ms"]).toBe("5");
  });
});
