import { StackError } from "./errors.ts";
import { startGatewayProcess } from "./gateways.ts";
import { startHaproxy } from "./haproxy.ts";
import { restartBroker } from "./kafka.ts";
import { HOST } from "./ports.ts";
import { isRunning, sendSignal, stopProcess, waitForExit, waitUntil } from "./processes.ts";
import { startRedisServer } from "./redis.ts";
import {
  isPrimary,
  type RedisSentinelState,
  restartDataNode,
  sentinelPrimaryPort,
  sentinelSeesReplica,
} from "./redis-sentinel.ts";
import { startSchemaRegistryProcess } from "./schema-registry-process.ts";
import { REPO } from "./stack.ts";
import {
  type BrokerState,
  type GatewayState,
  readState,
  type StackInfo,
  type StackState,
  writeState,
} from "./state.ts";

/** Signals that end a process; after the others (SIGSTOP, SIGUSR1...) killGateway does not wait. */
const ENDING: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGKILL", "SIGQUIT"];

/**
 * Sends `signal` to one gateway and, for a signal that ends it, waits until it is gone
 * (SIGTERM gets 15 s for a graceful shutdown, else STACK_STOP_TIMEOUT).
 */
export async function killGateway(info: StackInfo, id: string, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  const { gateway } = findGateway(loadState(info), id);
  if (!sendSignal(gateway, signal)) {
    throw new StackError("STACK_NOT_RUNNING", `gateway ${id} is not running`);
  }
  if (ENDING.includes(signal) && !(await waitForExit(gateway, 15_000))) {
    throw new StackError("STACK_STOP_TIMEOUT", `gateway ${id} still runs 15 s after ${signal}`);
  }
}

/**
 * Starts a gateway again with the same id, ports and variables (plus the caller's current
 * environment), waits for /readyz, and updates `info` in place with the new pid.
 */
export async function startGateway(info: StackInfo, id: string): Promise<StackInfo["gateways"][number]> {
  const state = loadState(info);
  const { gateway, index } = findGateway(state, id);
  if (isRunning(gateway)) throw new StackError("STACK_ALREADY_RUNNING", `gateway ${id} is running`);
  const started = await startGatewayProcess(REPO, gateway, (spawned) => {
    state.gateways[index] = spawned;
    writeState(state);
  });
  const entry = {
    id,
    url: started.url,
    internalUrl: started.internalUrl,
    pid: started.pid,
  };
  const position = info.gateways.findIndex((g) => g.id === id);
  if (position >= 0) info.gateways[position] = entry;
  return entry;
}

/** Stops the stack's own Redis (SIGTERM, then SIGKILL after 15 s); its port stays reserved. */
export async function stopRedis(info: StackInfo): Promise<void> {
  const redis = ownRedis(loadState(info));
  if (redis.process) await stopProcess(redis.process);
}

/** Starts the stack's own Redis again on the same port, empty (it never persists). */
export async function startRedis(info: StackInfo): Promise<void> {
  const state = loadState(info);
  const redis = ownRedis(state);
  if (redis.process && isRunning(redis.process)) throw new StackError("STACK_ALREADY_RUNNING", "redis is running");
  await startRedisServer(redis, (started) => {
    state.redis = started;
    writeState(state);
  });
}

/** Stops the stack's Schema Registry (SIGTERM, then SIGKILL after 15 s); its port stays reserved. */
export async function stopSchemaRegistry(info: StackInfo): Promise<void> {
  const registry = ownSchemaRegistry(loadState(info));
  await stopProcess(registry);
}

/**
 * Starts the stack's Schema Registry again on the same port; it replays `_schemas`, so it keeps
 * every id and version, and answers only once it has.
 */
export async function startSchemaRegistry(info: StackInfo): Promise<void> {
  const state = loadState(info);
  const registry = ownSchemaRegistry(state);
  if (isRunning(registry)) throw new StackError("STACK_ALREADY_RUNNING", "the schema registry is running");
  await startSchemaRegistryProcess(REPO, registry, (started) => {
    state.schemaRegistry = started;
    writeState(state);
  });
}

function ownSchemaRegistry(state: StackState): NonNullable<StackState["schemaRegistry"]> {
  if (!state.schemaRegistry) {
    throw new StackError("STACK_BAD_OPTION", "this stack was not started with --schema-registry");
  }
  return state.schemaRegistry;
}

function loadState(info: StackInfo): StackState {
  const state = readState(info.dir);
  if (!state) throw new StackError("STACK_NOT_RUNNING", `no stack state in ${info.dir}`);
  return state;
}

function findGateway(state: StackState, id: string): { gateway: GatewayState; index: number } {
  const index = state.gateways.findIndex((g) => g.id === id);
  const gateway = state.gateways[index];
  if (!gateway) throw new StackError("STACK_BAD_OPTION", `no gateway ${id} in this stack`);
  return { gateway, index };
}

function ownRedis(state: StackState): NonNullable<StackState["redis"]> {
  if (!state.redis?.process) {
    throw new StackError("STACK_BAD_OPTION", "this stack did not start a Redis (none, or an external one)");
  }
  return state.redis;
}

/** The current Redis primary of a --redis-sentinel stack, as its sentinels name it. */
export async function redisPrimary(info: StackInfo): Promise<{ host: string; port: number; pid: number }> {
  const sentinel = ownSentinel(loadState(info));
  const port = await sentinelPrimaryPort(sentinel);
  const server = sentinel.servers.find((s) => s.port === port);
  if (!server) throw new StackError("STACK_NOT_RUNNING", `the sentinels name port ${port}, not one of this stack's`);
  return { host: HOST, port, pid: server.pid };
}

/**
 * SIGKILLs the current Redis primary of a --redis-sentinel stack and waits until it is gone;
 * returns its port. The sentinels then promote the replica (after about a second of silence);
 * waitForRedisFailover tells when that has happened.
 */
export async function killRedisPrimary(info: StackInfo): Promise<number> {
  const sentinel = ownSentinel(loadState(info));
  const port = await sentinelPrimaryPort(sentinel);
  const server = sentinel.servers.find((s) => s.port === port);
  if (!server || !sendSignal(server, "SIGKILL")) {
    throw new StackError("STACK_NOT_RUNNING", `the Redis primary on port ${port} is not running`);
  }
  if (!(await waitForExit(server, 15_000))) {
    throw new StackError("STACK_STOP_TIMEOUT", `the Redis primary on port ${port} still runs after SIGKILL`);
  }
  return port;
}

/**
 * Sends `signal` to the Redis replica of a --redis-sentinel stack (the data node the sentinels do
 * not name the primary), e.g. SIGSTOP and SIGCONT to make it stop confirming writes for a while;
 * returns its port.
 */
export async function signalRedisReplica(info: StackInfo, signal: NodeJS.Signals): Promise<number> {
  const sentinel = ownSentinel(loadState(info));
  const primary = await sentinelPrimaryPort(sentinel);
  const replica = sentinel.servers.find((s) => s.port !== primary);
  if (!replica || !sendSignal(replica, signal)) {
    throw new StackError("STACK_NOT_RUNNING", "the Redis replica of this stack is not running");
  }
  return replica.port;
}

/**
 * Waits until the sentinels name a primary other than `formerPort` and that server itself reports
 * the primary role (it accepts writes); returns its port.
 */
export async function waitForRedisFailover(info: StackInfo, formerPort: number, timeoutMs = 60_000): Promise<number> {
  const sentinel = ownSentinel(loadState(info));
  let current = formerPort;
  await waitUntil(
    `a Redis failover away from port ${formerPort}`,
    async () => {
      current = await sentinelPrimaryPort(sentinel).catch(() => formerPort);
      return current !== formerPort && (await isPrimary(current));
    },
    { timeoutMs, intervalMs: 200 },
  );
  return current;
}

function ownSentinel(state: StackState): RedisSentinelState {
  if (!state.redisSentinel)
    throw new StackError("STACK_BAD_OPTION", "this stack was not started with --redis-sentinel");
  return state.redisSentinel;
}

// --- Faults: what the fault suite's nemeses do to a running stack (loadtest/faults). ---

/**
 * Sends `signal` to one broker by node id. SIGKILL and SIGTERM wait until it is gone; SIGSTOP and
 * SIGCONT return at once (a stopped JVM keeps its sockets open: clients see silence, not a reset).
 */
export async function signalBroker(info: StackInfo, id: number, signal: NodeJS.Signals): Promise<void> {
  const { broker } = findBroker(loadState(info), id);
  if (!sendSignal(broker, signal)) throw new StackError("STACK_NOT_RUNNING", `broker ${id} is not running`);
  if (ENDING.includes(signal) && !(await waitForExit(broker, 30_000))) {
    throw new StackError("STACK_STOP_TIMEOUT", `broker ${id} still runs 30 s after ${signal}`);
  }
}

/**
 * Starts a stopped broker again with its own data directory and settings, waits until it sees every
 * broker of the stack registered (itself included), and updates `info` in place with the new pid.
 */
export async function startBroker(info: StackInfo, id: number): Promise<void> {
  const state = loadState(info);
  const { broker, index } = findBroker(state, id);
  if (isRunning(broker)) throw new StackError("STACK_ALREADY_RUNNING", `broker ${id} is running`);
  const restarted = await restartBroker(
    broker,
    state.kafka.brokers.map((b) => b.id),
    (spawned) => {
      state.kafka.brokers[index] = spawned;
      writeState(state);
    },
  );
  const position = info.brokers.findIndex((b) => b.id === id);
  if (position >= 0) info.brokers[position] = { id, pid: restarted.pid, port: restarted.port };
}

/** SIGKILLs the stack's own Redis (no shutdown, no save) and waits until it is gone. */
export async function killRedis(info: StackInfo): Promise<void> {
  const redis = ownRedis(loadState(info));
  if (!redis.process || !sendSignal(redis.process, "SIGKILL")) {
    throw new StackError("STACK_NOT_RUNNING", "redis is not running");
  }
  await waitForExit(redis.process, 10_000);
}

/**
 * Stops haproxy (`signal`: SIGTERM is its hard stop, which closes every connection at once) and
 * starts it again on the same port with the same gateways; resolves once it routes /readyz.
 */
export async function restartLoadBalancer(info: StackInfo, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  const state = loadState(info);
  const lb = state.lb;
  if (!lb) throw new StackError("STACK_BAD_OPTION", "this stack has no load balancer");
  if (sendSignal(lb, signal) && !(await waitForExit(lb, 15_000))) {
    throw new StackError("STACK_STOP_TIMEOUT", `haproxy still runs 15 s after ${signal}`);
  }
  await startHaproxy(lb, state.gateways, (started) => {
    state.lb = started;
    writeState(state);
  });
}

function findBroker(state: StackState, id: number): { broker: BrokerState; index: number } {
  const index = state.kafka.brokers.findIndex((b) => b.id === id);
  const broker = state.kafka.brokers[index];
  if (!broker) throw new StackError("STACK_BAD_OPTION", `no broker ${id} in this stack`);
  return { broker, index };
}

/**
 * Starts a Redis data node of a --redis-sentinel stack that was killed (killRedisPrimary) again on
 * its port, as a replica of the primary the sentinels name now, and waits until it has synced and
 * every sentinel lists it as a healthy replica: the stack can fail over again afterwards.
 */
export async function restartRedisReplica(info: StackInfo, port: number, timeoutMs = 60_000): Promise<void> {
  const state = loadState(info);
  const sentinel = ownSentinel(state);
  const index = sentinel.servers.findIndex((s) => s.port === port);
  const server = sentinel.servers[index];
  if (!server) throw new StackError("STACK_BAD_OPTION", `no Redis data node on port ${port} in this stack`);
  if (isRunning(server)) throw new StackError("STACK_ALREADY_RUNNING", `the Redis node on port ${port} is running`);
  const primary = await sentinelPrimaryPort(sentinel);
  if (primary === port) {
    throw new StackError("STACK_NOT_RUNNING", `the sentinels still name the dead node on port ${port} the primary`);
  }
  sentinel.servers[index] = await restartDataNode(server, primary, timeoutMs);
  writeState(state);
  await waitUntil(
    `every sentinel lists port ${port} as a healthy replica`,
    async () => {
      for (const s of sentinel.sentinels) {
        if (!(await sentinelSeesReplica(s, sentinel.masterName, port).catch(() => false))) return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
