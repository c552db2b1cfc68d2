/**
 * What a rendered gateway container would see at start-up: its environment (downward API, Secret
 * keys, Kubernetes' $(VAR) expansion) and the config file mounted from the ConfigMap, fed to the
 * gateway's own loadConfig. A setting the gateway does not know, or a malformed one, fails here as
 * it would fail the pod.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { type GatewayConfig, loadConfig } from "../../gateway/src/config.ts";
import type { Manifest } from "./helm.ts";

export const POD_IP = "10.1.2.3";
export const POD_NAME = "demo-wharf-7d9c5b6f4-x2x9q";

// biome-ignore lint/suspicious/noExplicitAny: container specs are read field by field
type Container = any;

export function gatewayContainer(deployment: Manifest): Container {
  const container = deployment.spec.template.spec.containers.find((c: Container) => c.name === "gateway");
  if (!container) throw new Error(`${deployment.metadata.name} has no gateway container`);
  return container;
}

/** Kubernetes expands $(NAME) from variables defined earlier in the list; $$ escapes. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) =>
    name === undefined ? "$" : (env[name] ?? match),
  );
}

/**
 * The container's environment. Keys of Secrets the chart renders are read from them; keys of a
 * Secret the user manages (existingSecret) come from `external`, and a key found in neither fails.
 */
export function containerEnv(
  container: Container,
  manifests: Manifest[],
  external: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of container.env ?? []) {
    if (item.value !== undefined) {
      env[item.name] = expand(String(item.value), env);
      continue;
    }
    const from = item.valueFrom;
    if (from?.fieldRef) {
      const path = from.fieldRef.fieldPath;
      const known: Record<string, string> = { "status.podIP": POD_IP, "metadata.name": POD_NAME };
      if (!(path in known)) throw new Error(`${item.name}: unexpected fieldRef ${path}`);
      env[item.name] = known[path] as string;
    } else if (from?.secretKeyRef) {
      const { name, key } = from.secretKeyRef;
      const secret = manifests.find((m) => m.kind === "Secret" && m.metadata.name === name);
      if (secret) {
        const encoded = secret.data?.[key];
        if (encoded === undefined) throw new Error(`${item.name}: Secret ${name} has no key ${key}`);
        env[item.name] = Buffer.from(String(encoded), "base64").toString("utf8");
      } else {
        if (!(key in external)) throw new Error(`${item.name}: no value for key ${key} of external Secret ${name}`);
        env[item.name] = external[key] as string;
      }
    } else {
      throw new Error(`${item.name}: unsupported env source ${JSON.stringify(from)}`);
    }
  }
  if ((container.envFrom ?? []).length > 0) throw new Error("envFrom is not expected: every variable is listed");
  return env;
}

/** The content of the file at `path` in the container, from the ConfigMap volume mounted over its folder. */
export function mountedConfigFile(deployment: Manifest, manifests: Manifest[], path: string): string {
  const container = gatewayContainer(deployment);
  const mount = (container.volumeMounts ?? []).find((m: Container) => m.mountPath === dirname(path));
  if (!mount) throw new Error(`nothing is mounted at ${dirname(path)}`);
  const volume = deployment.spec.template.spec.volumes.find((v: Container) => v.name === mount.name);
  const configMap = manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === volume?.configMap?.name);
  const content = configMap?.data?.[basename(path)];
  if (typeof content !== "string") throw new Error(`no ConfigMap key provides ${path}`);
  return content;
}

/** Runs the gateway's start-up configuration parsing on what the pod would have. */
export function gatewayConfig(
  deployment: Manifest,
  manifests: Manifest[],
  external: Record<string, string> = {},
): { config: GatewayConfig; env: Record<string, string>; properties: string } {
  const env = containerEnv(gatewayContainer(deployment), manifests, external);
  const file = env.WHARF_CONFIG_FILE;
  if (!file) throw new Error("WHARF_CONFIG_FILE is not set");
  const properties = mountedConfigFile(deployment, manifests, file);
  const dir = mkdtempSync(join(tmpdir(), "wharf-pod-"));
  try {
    writeFileSync(join(dir, "wharf.properties"), properties);
    const config = loadConfig({ ...env, WHARF_CONFIG_FILE: join(dir, "wharf.properties") });
    return { config, env, properties };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
