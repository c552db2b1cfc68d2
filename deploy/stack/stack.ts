import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { StackError } from "./errors.ts";
import { DEFAULT_GATEWAY_PORT, gatewayMain, gatewayPlan, startGatewayProcess } from "./gateways.ts";
import { lbPlan, startHaproxy } from "./haproxy.ts";
import { startKafka } from "./kafka.ts";
import { createPortAllocator, type PortAllocator } from "./ports.ts";
import { isRunning, type ProcessRef, stopProcess } from "./processes.ts";
import { redisPlan, startRedisServer } from "./redis.ts";
import { sentinelGatewayEnv, startRedisSentinel } from "./redis-sentinel.ts";
import { schemaRegistryPlan, startSchemaRegistryProcess } from "./schema-registry-process.ts";
import { readState, removeStackFiles, type StackInfo, type StackState, toInfo, writeState } from "./state.ts";

export interface StackOptions {
  /** Brokers to start, 1 (default) or 3; ignored with `kafka`. */
  brokers?: number;
  /** Gateway processes, default 1. 0 starts only Kafka (and Redis / haproxy if asked). */
  gateways?: number;
  /** Put haproxy in front of the gateways. */
  lb?: boolean;
  lbPort?: number;
  /** Enable Kafka's StandardAuthorizer (User:ANONYMOUS is super user). */
  authorizer?: boolean;
  /** Add a SASL_SSL listener (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER) to every broker (PLAINTEXT stays for other clients). */
  saslSsl?: boolean;
  /** Reuse an existing cluster ("host:port,...") and start no broker. */
  kafka?: string;
  /** Reuse an external Redis ("redis://host:port") instead of starting one. */
  redis?: string;
  /** Start a Redis even for a single gateway. */
  redisLocal?: boolean;
  /** Redis behind Sentinel instead of one server: a primary, a replica and three sentinels. */
  redisSentinel?: boolean;
  /** Port of the first gateway, the next ones count up from it. Default 8082 for a lone gateway,
   * otherwise free ports; 0 always means free ports. */
  gatewayPort?: number;
  /** Start the Schema Registry stand-in after Kafka and point the gateways at it (WHARF_SCHEMA_REGISTRY_URL). */
  schemaRegistry?: boolean;
  /** Port of the Schema Registry; default a free one. */
  schemaRegistryPort?: number;
  /** Extra variables for every gateway (on top of the caller's environment). */
  gatewayEnv?: Record<string, string>;
  /** State directory, default <repo>/.stack. */
  dir?: string;
  /** Progress messages; default: stderr. */
  log?: (message: string) => void;
}

/** The checkout this file belongs to: deploy/stack/ is two levels down. */
export const REPO = resolve(import.meta.dirname, "..", "..");

export function defaultDir(): string {
  return join(REPO, ".stack");
}

function stderrLog(message: string): void {
  process.stderr.write(`[stack] ${message}\n`);
}

export async function startStack(options: StackOptions = {}): Promise<StackInfo> {
  const log = options.log ?? stderrLog;
  const dir = resolve(options.dir ?? defaultDir());
  const gatewayCount = options.gateways ?? 1;
  validate(options, gatewayCount);
  const main = gatewayMain(REPO);
  if (gatewayCount > 0 && !existsSync(main)) {
    throw new StackError("STACK_MISSING_TOOL", `${main} does not exist (yet): start the stack with --gateways 0`);
  }
  clearStale(dir);

  const startedAt = Date.now();
  const ports = createPortAllocator();
  // Every port the caller chose is checked before the first process starts, to fail in a second
  // rather than after Kafka is up.
  const lb = options.lb ? lbPlan(dir, await ports.take("load balancer", options.lbPort)) : null;
  const gatewayPorts = await takeGatewayPorts(ports, gatewayCount, options.gatewayPort);
  const needRedis = !options.redis && !options.redisSentinel && (gatewayCount > 1 || options.redisLocal === true);
  const localRedis = needRedis ? redisPlan(dir, await ports.take("redis")) : null;
  const registryPort = options.schemaRegistry ? await ports.take("schema registry", options.schemaRegistryPort) : null;

  const state: StackState = {
    version: 1,
    dir,
    clusterSecret: randomBytes(32).toString("hex"),
    kafka: { bootstrap: options.kafka ?? "", brokers: [] },
    redis: options.redis ? { url: options.redis, port: 0, logFile: "", process: null } : null,
    lb: null,
    gateways: [],
  };
  writeState(state);

  try {
    await Promise.all([
      options.kafka ? undefined : startBrokers(state, options, ports, log),
      localRedis ? startLocalRedis(state, localRedis, log) : undefined,
      options.redisSentinel ? startSentinelRedis(state, ports, log) : undefined,
    ]);
    if (registryPort !== null) await startRegistry(state, registryPort, log);
    const redisEnv = state.redisSentinel ? sentinelGatewayEnv(state.redisSentinel) : {};
    const registryEnv: Record<string, string> = state.schemaRegistry
      ? { WHARF_SCHEMA_REGISTRY_URL: state.schemaRegistry.url }
      : {};
    const planned = gatewayPorts.map(([port, internalPort], i) =>
      gatewayPlan({
        dir,
        main,
        index: i + 1,
        port,
        internalPort,
        bootstrap: state.kafka.bootstrap,
        redisUrl: state.redis?.url ?? null,
        publicUrl: lb?.url ?? null,
        clusterSecret: state.clusterSecret,
        extraEnv: { ...(options.gatewayEnv ?? {}), ...redisEnv, ...registryEnv },
      }),
    );
    if (planned.length > 0) log(`starting ${planned.length} gateway(s) on ${planned.map((g) => g.url).join(", ")}`);
    await Promise.all(
      planned.map((plan) =>
        startGatewayProcess(REPO, plan, (started) => {
          state.gateways.push(started);
          writeState(state);
        }),
      ),
    );
    state.gateways.sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
    writeState(state);
    if (lb) {
      log(`starting haproxy on ${lb.url}`);
      await startHaproxy(lb, state.gateways, (started) => {
        state.lb = started;
        writeState(state);
      });
    }
  } catch (error) {
    log(`start-up failed, stopping what was started (logs stay in ${dir}; \`pnpm stack down\` removes them)`);
    await stopProcesses(state);
    throw error;
  }
  log(`stack ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return toInfo(state);
}

/** Stops what the stack in `dir` started (never reused services) and deletes its files. */
export async function stopStack(dir: string = defaultDir()): Promise<void> {
  const absolute = resolve(dir);
  const state = readState(absolute);
  if (state) await stopProcesses(state);
  removeStackFiles(absolute);
}

/** The running stack's info, or null when `dir` holds none. */
export function readStackInfo(dir: string = defaultDir()): StackInfo | null {
  const state = readState(resolve(dir));
  return state ? toInfo(state) : null;
}

async function startBrokers(
  state: StackState,
  options: StackOptions,
  ports: PortAllocator,
  log: (message: string) => void,
): Promise<void> {
  const kafka = await startKafka({
    brokers: options.brokers ?? 1,
    authorizer: options.authorizer === true,
    saslSsl: options.saslSsl === true,
    dir: state.dir,
    ports,
    log,
    onSpawned: (broker) => {
      state.kafka.brokers.push(broker);
      writeState(state);
    },
  });
  state.kafka = kafka;
  writeState(state);
  log(`kafka ready at ${kafka.bootstrap}`);
}

async function startRegistry(state: StackState, port: number, log: (message: string) => void): Promise<void> {
  const plan = schemaRegistryPlan(state.dir, port, state.kafka.bootstrap);
  log(`starting the schema registry stand-in on ${plan.url}`);
  await startSchemaRegistryProcess(REPO, plan, (started) => {
    state.schemaRegistry = started;
    writeState(state);
  });
}

async function startSentinelRedis(state: StackState, ports: PortAllocator, log: (message: string) => void) {
  log("starting redis primary, replica and 3 sentinels");
  await startRedisSentinel(state.dir, ports, (started) => {
    state.redisSentinel = started;
    writeState(state);
  });
  log("redis sentinels ready");
}

async function startLocalRedis(
  state: StackState,
  plan: NonNullable<StackState["redis"]>,
  log: (message: string) => void,
): Promise<void> {
  log(`starting redis on ${plan.url}`);
  await startRedisServer(plan, (started) => {
    state.redis = started;
    writeState(state);
  });
}

/** Reverse order of start-up: clients first, so gateways can leave their groups while Kafka is up. */
export async function stopProcesses(state: StackState): Promise<void> {
  const stop = (refs: ProcessRef[]) => Promise.all(refs.map((ref) => stopProcess(ref)));
  if (state.lb) await stop([state.lb]);
  await stop(state.gateways);
  if (state.schemaRegistry) await stop([state.schemaRegistry]);
  if (state.redis?.process) await stop([state.redis.process]);
  // Sentinels first: stopping the data nodes under them would only start a failover.
  if (state.redisSentinel) {
    await stop(state.redisSentinel.sentinels);
    await stop(state.redisSentinel.servers);
  }
  await stop(state.kafka.brokers);
}

function anyRunning(state: StackState): boolean {
  const refs: ProcessRef[] = [...state.gateways, ...state.kafka.brokers];
  if (state.lb) refs.push(state.lb);
  if (state.redis?.process) refs.push(state.redis.process);
  if (state.schemaRegistry) refs.push(state.schemaRegistry);
  if (state.redisSentinel) refs.push(...state.redisSentinel.sentinels, ...state.redisSentinel.servers);
  return refs.some((ref) => ref.pid > 0 && isRunning(ref));
}

function clearStale(dir: string): void {
  const previous = readState(dir);
  if (previous && anyRunning(previous)) {
    throw new StackError(
      "STACK_ALREADY_RUNNING",
      `a stack is already running in ${dir}: run \`pnpm stack down\` first`,
    );
  }
  removeStackFiles(dir);
}

async function takeGatewayPorts(
  ports: PortAllocator,
  count: number,
  firstPort: number | undefined,
): Promise<[number, number][]> {
  const first = firstPort ?? (count === 1 ? DEFAULT_GATEWAY_PORT : 0);
  const taken: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const what = `gateway gw-${i + 1}`;
    const hint = i === 0 && firstPort === undefined ? " (--gateway-port picks another, 0 any free one)" : "";
    const port = await ports.take(`${what}${hint}`, first === 0 ? undefined : first + i);
    taken.push([port, await ports.take(`${what} internal listener`)]);
  }
  return taken;
}

function validate(options: StackOptions, gatewayCount: number): void {
  const fail = (message: string) => {
    throw new StackError("STACK_BAD_OPTION", message);
  };
  if (!Number.isInteger(gatewayCount) || gatewayCount < 0) fail(`gateways must be a whole number >= 0`);
  if (!options.kafka && options.brokers !== undefined && options.brokers !== 1 && options.brokers !== 3) {
    fail(`brokers must be 1 or 3, got ${options.brokers}`);
  }
  if (options.kafka !== undefined && !/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/.test(options.kafka)) {
    fail(`kafka must be host:port[,host:port...], got "${options.kafka}"`);
  }
  if (options.redis !== undefined && !/^rediss?:\/\//.test(options.redis)) {
    fail(`redis must be a redis:// or rediss:// URL, got "${options.redis}"`);
  }
  if (options.redis && options.redisLocal) fail("redis and redisLocal exclude each other");
  if (options.redisSentinel && (options.redis || options.redisLocal))
    fail("redisSentinel excludes redis and redisLocal");
  if (options.kafka && options.authorizer) fail("authorizer applies to brokers the stack starts, not to --kafka");
  if (options.schemaRegistryPort !== undefined && !options.schemaRegistry)
    fail("schemaRegistryPort needs schemaRegistry");
  if (options.kafka && options.saslSsl) fail("sasl-ssl applies to brokers the stack starts, not to --kafka");
  for (const [name, port] of [
    ["gatewayPort", options.gatewayPort],
    ["lbPort", options.lbPort],
    ["schemaRegistryPort", options.schemaRegistryPort],
  ] as const) {
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
      fail(`${name} must be a port number`);
  }
}
