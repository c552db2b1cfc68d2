import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { StackError } from "./errors.ts";
import {
  type BrokerPlan,
  type ClusterPlan,
  initialControllers,
  log4jProperties,
  type OidcPlan,
  oidcJvmOptions,
  randomKafkaUuid,
  type SaslSslPlan,
  SCRAM_MECHANISM,
  scramCredentialArgs,
  serverProperties,
} from "./kafka-config.ts";
import { probeCluster } from "./kafka-probe.ts";
import { HOST, type PortAllocator } from "./ports.ts";
import { runCommand, type Spawned, spawnDetached, tailFile, waitUntil } from "./processes.ts";
import type { BrokerState, KafkaState } from "./state.ts";
import { createTestCa } from "./tls.ts";

export interface KafkaOptions {
  /** 1 or 3, as validated by the caller: each node is both broker and controller (voter). */
  brokers: number;
  authorizer: boolean;
  /**
   * Add a SASL_SSL listener (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER; certificates from a CA made in
   * <dir>/tls) and an OIDC one (OAUTHBEARER with tokens signed by a key made in <dir>/tls).
   */
  saslSsl?: boolean;
  /** The stack's directory; brokers live in <dir>/kafka/broker-<id>. */
  dir: string;
  ports: PortAllocator;
  log: (message: string) => void;
  /** Called as soon as a broker process exists, so its pid is recorded before we wait on it. */
  onSpawned: (broker: BrokerState) => void;
}

/** Three JVMs starting at once on two cores take about 7 s; this is room for a loaded machine. */
const READY_TIMEOUT_MS = 120_000;

/** Where deploy/setup.sh puts the jars (same defaults as deploy/env.sh, for callers that skip it). */
export function kafkaLibs(): string {
  if (process.env.WHARF_KAFKA_LIBS) return process.env.WHARF_KAFKA_LIBS;
  const tools = process.env.WHARF_TOOLS ?? join(homedir(), ".cache", "wharf");
  return join(tools, `kafka-${process.env.WHARF_KAFKA_VERSION ?? "4.3.1"}`, "libs");
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin", "java") : "java";
}

/** Formats and starts a KRaft cluster of combined broker+controller nodes, all at once. */
export async function startKafka(options: KafkaOptions): Promise<KafkaState> {
  const classpath = kafkaClasspath(kafkaLibs(), options.log);
  const cluster = await planCluster(options);
  if (options.saslSsl) cluster.saslSsl = await saslSslPlan(options.dir);
  const clusterId = randomKafkaUuid();
  const directoryIds = cluster.brokers.map(() => randomKafkaUuid());
  const quorum =
    cluster.brokers.length === 1
      ? ["--standalone"]
      : ["--initial-controllers", initialControllers(cluster, directoryIds)];

  options.log(`formatting ${cluster.brokers.length} broker(s), cluster id ${clusterId}`);
  await Promise.all(
    cluster.brokers.map((broker) => {
      mkdirSync(broker.dir, { recursive: true });
      writeFileSync(configFile(broker), serverProperties(broker, cluster));
      writeFileSync(log4jFile(broker), log4jProperties(join(broker.dir, "server.log")));
      // A short-lived JVM: the client compiler and serial GC start it faster.
      return runCommand(
        javaBinary(),
        [
          "-Xmx256m",
          "-XX:TieredStopAtLevel=1",
          "-XX:+UseSerialGC",
          `-Dlog4j2.configurationFile=${log4jFile(broker)}`,
          "kafka.tools.StorageTool",
          "format",
          "-t",
          clusterId,
          "-c",
          configFile(broker),
          ...quorum,
          ...(cluster.saslSsl ? scramCredentialArgs(cluster.saslSsl) : []),
        ],
        { ...process.env, CLASSPATH: classpath },
      );
    }),
  );

  options.log(`starting ${cluster.brokers.length} broker(s) on ports ${cluster.brokers.map((b) => b.port).join(", ")}`);
  const jvmOptions = cluster.saslSsl ? oidcJvmOptions(cluster.saslSsl) : [];
  const started = cluster.brokers.map((plan) => {
    const broker = { ...plan, jvmOptions };
    const child = spawnBroker(broker, classpath, jvmOptions);
    options.onSpawned({
      ...broker,
      pid: child.pid,
      startTime: child.startTime,
    });
    return { broker, child };
  });
  await Promise.all(started.map(({ broker, child }) => waitForBroker(broker, child, cluster, READY_TIMEOUT_MS)));
  const sasl = cluster.saslSsl;
  return {
    bootstrap: cluster.brokers.map((b) => `${HOST}:${b.port}`).join(","),
    saslSsl: sasl
      ? {
          bootstrap: cluster.brokers.map((b) => `${HOST}:${b.saslPort}`).join(","),
          caFile: sasl.truststore,
          mechanism: SCRAM_MECHANISM,
          username: sasl.username,
          password: sasl.password,
          oidc: {
            bootstrap: cluster.brokers.map((b) => `${HOST}:${b.oidcPort}`).join(","),
            privateKeyFile: sasl.oidc.privateKeyFile,
            kid: sasl.oidc.kid,
            audience: sasl.oidc.audience,
            issuer: sasl.oidc.issuer,
          },
        }
      : null,
    brokers: started.map(({ broker, child }) => ({
      ...broker,
      pid: child.pid,
      startTime: child.startTime,
    })),
  };
}

/**
 * Starts one broker of a running stack again, with the configuration, data and JVM options it had
 * (a restart after a crash: its log is recovered from disk), and waits until every broker in
 * `expectedIds` is registered and unfenced as this broker sees the cluster.
 */
export async function restartBroker(
  broker: BrokerState,
  expectedIds: number[],
  onSpawned: (broker: BrokerState) => void,
  log: (message: string) => void = () => {},
  timeoutMs = READY_TIMEOUT_MS,
): Promise<BrokerState> {
  const child = spawnBroker(broker, kafkaClasspath(kafkaLibs(), log), broker.jvmOptions ?? []);
  const restarted = { ...broker, pid: child.pid, startTime: child.startTime };
  onSpawned(restarted);
  await waitUntil(
    `broker ${broker.id} (port ${broker.port})`,
    async () => {
      const view = await probeCluster(broker.port, HOST);
      return view !== null && view.controllerId >= 0 && expectedIds.every((id) => view.brokerIds.includes(id));
    },
    {
      timeoutMs,
      intervalMs: 250,
      failure: child.exitStatus,
      detail: () => tailFile(join(broker.dir, "server.log"), 30),
    },
  );
  return restarted;
}

async function planCluster(options: KafkaOptions): Promise<ClusterPlan> {
  const brokers: BrokerPlan[] = [];
  for (let id = 1; id <= options.brokers; id++) {
    brokers.push({
      id,
      port: await options.ports.take(`broker ${id}`),
      controllerPort: await options.ports.take(`controller ${id}`),
      dir: join(options.dir, "kafka", `broker-${id}`),
      ...(options.saslSsl
        ? {
            saslPort: await options.ports.take(`broker ${id} SASL_SSL`),
            oidcPort: await options.ports.take(`broker ${id} OIDC`),
          }
        : {}),
    });
  }
  return { brokers, authorizer: options.authorizer };
}

/** A CA and one broker certificate (all brokers are 127.0.0.1), and a random password for the SASL user. */
async function saslSslPlan(dir: string): Promise<SaslSslPlan> {
  const ca = await createTestCa(join(dir, "tls"), "Wharf stack CA");
  const broker = await ca.issue("broker", { cn: "localhost", server: true });
  return {
    keystore: broker.keystore,
    truststore: ca.caCert,
    username: "wharf",
    password: randomBytes(12).toString("hex"),
    oidc: createOidcSigningKey(ca.dir),
  };
}

/** An RSA key pair for the OIDC listener: the brokers get the public key as a JWKS, tests the private key. */
function createOidcSigningKey(dir: string): OidcPlan {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = `wharf-stack-${randomBytes(4).toString("hex")}`;
  const jwksFile = join(dir, "jwks.json");
  const privateKeyFile = join(dir, "oidc-signing.key");
  writeFileSync(privateKeyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  writeFileSync(jwksFile, `${JSON.stringify({ keys: [jwk] }, null, 2)}\n`);
  return { jwksFile, privateKeyFile, kid, audience: "wharf-stack-kafka", issuer: "https://oidc.wharf-stack.invalid" };
}

function spawnBroker(broker: BrokerPlan, classpath: string, jvmOptions: string[]): Spawned {
  return spawnDetached({
    command: javaBinary(),
    args: [
      "-Xms256m",
      "-Xmx512m",
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      // With 512 MB, G1 picks 1 MB regions: a produce request over 512 KB is then a "humongous"
      // object, and under benchmark load the broker ran a young GC every ~0.3 s for them (pauses up to
      // 50 ms). 4 MB regions: a quarter of the pauses, and a plain producer 1.4x faster.
      "-XX:G1HeapRegionSize=4m",
      // Pauses in the broker show up as latency stalls in the benchmark; the log says when and how long.
      `-Xlog:gc:file=${join(broker.dir, "gc.log")}:uptime:filecount=2,filesize=10m`,
      "-XX:+ExitOnOutOfMemoryError",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${log4jFile(broker)}`,
      `-Dkafka.logs.dir=${broker.dir}`,
      ...jvmOptions,
      "kafka.Kafka",
      configFile(broker),
    ],
    logFile: join(broker.dir, "stdout.log"),
    cwd: broker.dir,
    // Through the environment rather than -cp: ninety jar paths would bury the command in `ps`.
    env: { ...process.env, CLASSPATH: classpath },
  });
}

function waitForBroker(broker: BrokerPlan, child: Spawned, cluster: ClusterPlan, timeoutMs: number): Promise<void> {
  const expected = cluster.brokers.map((b) => b.id);
  return waitUntil(
    `broker ${broker.id} (port ${broker.port})`,
    async () => {
      const view = await probeCluster(broker.port, HOST);
      return view !== null && view.controllerId >= 0 && expected.every((id) => view.brokerIds.includes(id));
    },
    {
      timeoutMs,
      intervalMs: 250,
      failure: child.exitStatus,
      detail: () => `${tailFile(join(broker.dir, "stdout.log"), 10)}\n${tailFile(join(broker.dir, "server.log"), 30)}`,
    },
  );
}

/** The jars to run with: `${libs}/*` except for a stale SLF4J binding (see below). */
function kafkaClasspath(libs: string, log: (message: string) => void): string {
  const jars = existsSync(libs) ? readdirSync(libs).filter((jar) => jar.endsWith(".jar")) : [];
  if (!jars.some((jar) => /^kafka_2\.13-.*\.jar$/.test(jar))) {
    throw new StackError(
      "STACK_MISSING_TOOL",
      `no Kafka jars in ${libs}: run deploy/setup.sh (or point WHARF_KAFKA_LIBS at a folder of Kafka 4.x jars)`,
    );
  }
  // Kafka pins slf4j-api 1.7, whose log4j2 binding is log4j-slf4j-impl (see deploy/kafka/pom.xml).
  // A folder filled by an older pom may also hold log4j-slf4j2-impl, which defines the same classes
  // for SLF4J 2 and makes every JVM die at its first log line: leave it out.
  const binding = jars.some((jar) => jar.startsWith("log4j-slf4j-impl-"));
  if (!binding) log(`warning: ${libs} has no log4j-slf4j-impl jar, brokers will write no server.log`);
  const kept = binding ? jars.filter((jar) => !jar.startsWith("log4j-slf4j2-impl-")) : jars;
  return kept.map((jar) => join(libs, jar)).join(":");
}

function configFile(broker: BrokerPlan): string {
  return join(broker.dir, "server.properties");
}

function log4jFile(broker: BrokerPlan): string {
  return join(broker.dir, "log4j2.properties");
}
