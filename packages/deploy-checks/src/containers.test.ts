/**
 * deploy/Dockerfile, deploy/compose.yaml and deploy/haproxy/haproxy.cfg, checked without a container
 * engine: every WHARF_* variable is a setting the gateway accepts (its own loadConfig runs on them),
 * and ports, health checks and names agree across the three files.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, matchesGlob } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type GatewayConfig, loadConfig } from "../../gateway/src/config.ts";
import { repoRoot } from "./artefacts.ts";

const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions per stage (continuation lines joined, comments and the ARGs before FROM dropped). */
function dockerStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const joined = text.replace(/\\\n/g, " ");
  for (const line of joined.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const [, op = "", args = ""] = /^(\S+)\s*(.*)$/.exec(trimmed) ?? [];
    const instruction = { op: op.toUpperCase(), args: args.replace(/\s+/g, " ") };
    if (instruction.op === "FROM") stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

/** Compose's ${VAR:-default} / ${VAR} / $$ interpolation, with an empty environment. */
const interpolate = (value: string) =>
  value.replace(/\$\$|\$\{(\w+)(?::?-([^}]*))?\}/g, (match, _name, fallback: string | undefined) =>
    match === "$$" ? "$" : (fallback ?? ""),
  );

const defaults = loadConfig({ WHARF_BOOTSTRAP_SERVERS: "kafka:9092" });

describe("deploy/Dockerfile", () => {
  const stages = dockerStages(read("deploy/Dockerfile"));
  const [build = [], runtime = []] = stages;
  const find = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op);
  const aptPackages = (stage: Instruction[]) =>
    find(stage, "RUN")
      .flatMap((i) => /apt-get install (.*?)(&&|$)/.exec(i.args)?.[1]?.split(" ") ?? [])
      .filter((p) => p !== "" && !p.startsWith("-"));

  it("has a build stage and a runtime stage, both on Node 24 slim", () => {
    expect(stages).toHaveLength(2);
    expect(read("deploy/Dockerfile")).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    for (const stage of stages) expect(stage[0]?.args).toMatch(/^\$\{NODE_IMAGE\}/);
  });

  it("builds librdkafka against Debian's libraries with the frozen lockfile", () => {
    const install = find(build, "RUN").find((i) => i.args.includes("pnpm install"));
    expect(install?.args).toContain("CKJS_LINKING=dynamic");
    expect(install?.args).toContain("--frozen-lockfile");
    expect(install?.args).toContain("--prod");
  });

  it("ships the runtime library of every -dev package it built against, and no -dev package", () => {
    const runtimeOf: Record<string, string> = {
      "zlib1g-dev": "zlib1g",
      "libssl-dev": "libssl3",
      "libzstd-dev": "libzstd1",
      "liblz4-dev": "liblz4-1",
      "libsasl2-dev": "libsasl2-2",
      "libcurl4-openssl-dev": "libcurl4",
    };
    const built = aptPackages(build).filter((p) => p.endsWith("-dev"));
    const shipped = aptPackages(runtime);
    expect(built.sort()).toEqual(Object.keys(runtimeOf).sort());
    for (const dev of built) expect(shipped, dev).toContain(runtimeOf[dev]);
    expect(shipped.filter((p) => p.endsWith("-dev") || p === "build-essential")).toEqual([]);
    expect(shipped).toContain("ca-certificates");
  });

  it("runs as a non-root user", () => {
    const users = find(runtime, "USER").map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it("copies files that exist and that the .dockerignore keeps, and starts the gateway's entry point", () => {
    const ignore = read("deploy/Dockerfile.dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    for (const copy of find(build, "COPY").filter((i) => !i.args.includes("--from"))) {
      for (const source of copy.args.split(" ").slice(0, -1)) {
        expect(existsSync(join(repoRoot, source)), source).toBe(true);
        expect(
          ignore.filter((pattern) => matchesGlob(source, pattern)),
          source,
        ).toEqual([]);
      }
    }
    const entrypoint = JSON.parse(find(runtime, "ENTRYPOINT")[0]?.args ?? "[]") as string[];
    expect(entrypoint[0]).toBe("node");
    expect(existsSync(join(repoRoot, entrypoint[1] as string))).toBe(true);
  });

  it("exposes the default public and internal ports and health-checks /healthz on the public one", () => {
    const exposed = find(runtime, "EXPOSE").flatMap((i) => i.args.split(" ").map(Number));
    expect(exposed).toContain(defaults.listener.port);
    expect(exposed).toContain(9082);
    const check = find(runtime, "HEALTHCHECK")[0]?.args ?? "";
    expect(check).toContain(`:${defaults.listener.port}/healthz`);
  });
});

describe("deploy/compose.yaml", () => {
  // biome-ignore lint/suspicious/noExplicitAny: compose services are read field by field
  const compose = parse(read("deploy/compose.yaml"), { merge: true }) as { services: Record<string, any> };
  const services = compose.services;
  const gatewayNames = Object.keys(services).filter((n) => services[n].build?.dockerfile === "deploy/Dockerfile");
  /** What the gateway in service `name` would start with; throws as it would on an unknown setting. */
  const cfg = (name: string): GatewayConfig =>
    loadConfig(
      Object.fromEntries(
        Object.entries(services[name].environment as Record<string, unknown>).map(([k, v]) => [
          k,
          interpolate(String(v)),
        ]),
      ),
    );

  it("runs Kafka in KRaft mode, Redis, three gateways built from deploy/Dockerfile and haproxy", () => {
    expect(services.kafka.image).toMatch(/^apache\/kafka:/);
    expect(services.kafka.environment.KAFKA_PROCESS_ROLES).toBe("broker,controller");
    expect(services.redis.image).toMatch(/^redis:/);
    expect(gatewayNames).toEqual(["gateway-1", "gateway-2", "gateway-3"]);
    expect(services.haproxy.image).toMatch(/^haproxy:/);
  });

  it("sets only WHARF_* variables the gateway accepts (its loadConfig parses each gateway's environment)", () => {
    for (const name of gatewayNames) {
      for (const key of Object.keys(services[name].environment)) expect(key, name).toMatch(/^WHARF_/);
      expect(cfg(name).id).toBe(name);
    }
  });

  it("wires each gateway to Kafka's advertised listener, to Redis and to the others by service name", () => {
    const advertised = String(services.kafka.environment.KAFKA_ADVERTISED_LISTENERS);
    const secrets = new Set(gatewayNames.map((n) => cfg(n).clusterSecret));
    expect(secrets.size).toBe(1);
    for (const name of gatewayNames) {
      const config = cfg(name);
      expect(advertised.split(",").map((l) => l.replace(/^\w+:\/\//, ""))).toContain(config.bootstrapServers);
      expect(new URL(config.redisUrl ?? "").hostname).toBe("redis");
      const internal = new URL(config.internalAdvertisedUrl ?? "");
      expect(internal.hostname).toBe(name);
      expect(Number(internal.port)).toBe(config.internalListener?.port);
    }
  });

  it("health-checks each gateway on its listener and waits longer than shutdown.timeout.ms to stop it", () => {
    for (const name of gatewayNames) {
      const test = (services[name].healthcheck.test as string[]).join(" ");
      expect(test, name).toContain(`127.0.0.1:${cfg(name).listener.port}/readyz`);
      const grace = Number(/^(\d+)s$/.exec(services[name].stop_grace_period)?.[1]);
      expect(grace * 1000, name).toBeGreaterThan(cfg(name).shutdownTimeoutMs);
    }
  });

  describe("haproxy", () => {
    const cfgText = read("deploy/haproxy/haproxy.cfg");

    it("mounts deploy/haproxy/haproxy.cfg and publishes the port its frontend binds", () => {
      const volume = (services.haproxy.volumes as string[])[0] ?? "";
      expect(volume.split(":")[0]).toBe("./haproxy/haproxy.cfg");
      const bind = Number(/^\s*bind\s+\S*:(\d+)/m.exec(cfgText)?.[1]);
      expect(services.haproxy.ports).toEqual([`${bind}:${bind}`]);
    });

    it("balances over exactly the compose gateways, on their listener port, checking /readyz", () => {
      const servers = [...cfgText.matchAll(/^\s*server\s+(\S+)\s+([^:\s]+):(\d+)\s.*\bcheck\b/gm)];
      expect(servers.map((m) => m[2])).toEqual(gatewayNames);
      for (const m of servers) expect(Number(m[3])).toBe(cfg(m[2] as string).listener.port);
      expect(cfgText).toMatch(/^\s*option httpchk GET \/readyz$/m);
      expect(cfgText).not.toMatch(/^\s*(cookie|stick)\b/m); // no sticky sessions: any gateway serves any call
    });

    it("is a configuration haproxy accepts", () => {
      let output: string;
      try {
        output = execFileSync("haproxy", ["-c", "-f", join(repoRoot, "deploy/haproxy/haproxy.cfg")], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
      } catch (error) {
        const e = error as { code?: string; stdout?: string; stderr?: string };
        if (e.code === "ENOENT") return; // deploy/setup.sh installs haproxy; without it there is nothing to ask
        throw new Error(`haproxy -c refused the configuration:\n${e.stdout}${e.stderr}`);
      }
      expect(output).toContain("Configuration file is valid");
    });
  });
});
