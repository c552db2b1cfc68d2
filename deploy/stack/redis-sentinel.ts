/**
 * Redis with no single point of failure, for `--redis-sentinel`: a primary, one replica and three
 * sentinels (quorum 2), all real redis-server processes on loopback, persistence off like the
 * plain Redis. Sentinels notice a dead primary after one second and promote the replica.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { StackError } from "./errors.ts";
import { HOST, type PortAllocator } from "./ports.ts";
import { type ProcessRef, runCommand, type Spawned, spawnDetached, tailFile, waitUntil } from "./processes.ts";
import { ping, serverArgs } from "./redis.ts";

export const MASTER_NAME = "wharf";
/** Sentinels that must agree a primary is down before one of them fails it over. */
const QUORUM = 2;
const DOWN_AFTER_MS = 1000;
/**
 * The sentinels' bound on one failover attempt (`failover-timeout`). A sentinel that voted in an
 * election that failed (three sentinels starting at once split their votes, likelier on a busy
 * machine) tries again only after twice this: it sets how long an unlucky failover takes.
 */
const FAILOVER_TIMEOUT_MS = 5000;
/** What a failover may take beyond the timeouts: the sentinels' random desync (up to 1 s) and the promotion. */
const FAILOVER_SLACK_MS = 2000;

export interface RedisNodeState extends ProcessRef {
  port: number;
  logFile: string;
}

export interface RedisSentinelState {
  masterName: string;
  /** The two data nodes; which of them is primary changes with every failover. */
  servers: RedisNodeState[];
  sentinels: RedisNodeState[];
}

/** What the gateways and the JSON line get: Wharf's own settings for it. */
export interface RedisSentinelInfo {
  /** `redis.sentinels` */
  sentinels: string;
  /** `redis.master.name` */
  masterName: string;
  /** Ports of the data nodes (the primary and the replica at start-up, in that order). */
  servers: number[];
}

export function sentinelInfo(state: RedisSentinelState): RedisSentinelInfo {
  return {
    sentinels: state.sentinels.map((s) => `${HOST}:${s.port}`).join(","),
    masterName: state.masterName,
    servers: state.servers.map((s) => s.port),
  };
}

/**
 * The gateway settings that point at the sentinels (instead of WHARF_REDIS_URL). `redis.wait.ms`
 * covers what the README asks of it: the sentinels' down-after time plus a failover that needed a
 * second election, so a request that needs Redis rides out a failover that a busy machine slows.
 */
export function sentinelGatewayEnv(state: RedisSentinelState): Record<string, string> {
  const info = sentinelInfo(state);
  return {
    WHARF_REDIS_SENTINELS: info.sentinels,
    WHARF_REDIS_MASTER_NAME: info.masterName,
    WHARF_REDIS_WAIT_MS: String(DOWN_AFTER_MS + 2 * FAILOVER_TIMEOUT_MS + FAILOVER_SLACK_MS),
  };
}

export function redisSentinelDir(dir: string): string {
  return join(dir, "redis-sentinel");
}

/**
 * Starts the primary, then the replica, then the sentinels, and returns once every sentinel
 * knows the replica and the other two sentinels (before that, a failover could not happen).
 * `onSpawned` is called after every process start so a crashed start-up can still be undone.
 */
export async function startRedisSentinel(
  dir: string,
  ports: PortAllocator,
  onSpawned: (state: RedisSentinelState) => void,
  timeoutMs = 30_000,
): Promise<RedisSentinelState> {
  const base = redisSentinelDir(dir);
  const state: RedisSentinelState = { masterName: MASTER_NAME, servers: [], sentinels: [] };
  const primaryPort = await ports.take("redis primary");
  const replicaPort = await ports.take("redis replica");
  const sentinelPorts = [
    await ports.take("redis sentinel 1"),
    await ports.take("redis sentinel 2"),
    await ports.take("redis sentinel 3"),
  ];

  for (const [name, port, extra] of [
    ["primary", primaryPort, []],
    ["replica", replicaPort, ["--replicaof", HOST, String(primaryPort)]],
  ] as const) {
    const nodeDir = join(base, name);
    mkdirSync(nodeDir, { recursive: true });
    const node = await spawnRedis(port, join(nodeDir, "redis.log"), [...serverArgs(port, nodeDir), ...extra]);
    state.servers.push(node.state);
    onSpawned(state);
    await waitReady(node, timeoutMs);
  }
  await waitUntil(
    `redis replica on port ${replicaPort} in sync`,
    async () => (await redisCli(replicaPort, "INFO", "replication")).includes("master_link_status:up"),
    { timeoutMs, intervalMs: 200, detail: () => tailFile(state.servers[1]?.logFile ?? "", 20) },
  );

  const spawned: SpawnedRedis[] = [];
  for (const [i, port] of sentinelPorts.entries()) {
    const sentinelDir = join(base, `sentinel-${i + 1}`);
    mkdirSync(sentinelDir, { recursive: true });
    // A sentinel rewrites its config file (what it learns of replicas and peers): each its own.
    const configFile = join(sentinelDir, "sentinel.conf");
    writeFileSync(
      configFile,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${sentinelDir}`,
        `sentinel monitor ${MASTER_NAME} ${HOST} ${primaryPort} ${QUORUM}`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        "",
      ].join("\n"),
    );
    const node = await spawnRedis(port, join(sentinelDir, "sentinel.log"), [configFile, "--sentinel"]);
    state.sentinels.push(node.state);
    onSpawned(state);
    spawned.push(node);
  }
  for (const node of spawned) await waitReady(node, timeoutMs);
  for (const sentinel of state.sentinels) {
    await waitUntil(
      `redis sentinel on port ${sentinel.port} sees the replica and its peers`,
      async () => {
        const replicas = await redisCli(sentinel.port, "SENTINEL", "REPLICAS", MASTER_NAME);
        const peers = await redisCli(sentinel.port, "SENTINEL", "SENTINELS", MASTER_NAME);
        const peerCount = peers.split("\n").filter((line) => line === "runid").length;
        return replicas.includes(String(replicaPort)) && peerCount === sentinelPorts.length - 1;
      },
      { timeoutMs, intervalMs: 250, detail: () => tailFile(sentinel.logFile, 20) },
    );
  }
  return state;
}

/** The primary's port as the sentinels see it now: the first sentinel that answers decides. */
export async function sentinelPrimaryPort(state: RedisSentinelState): Promise<number> {
  for (const sentinel of state.sentinels) {
    const reply = await redisCli(sentinel.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", state.masterName).catch(
      () => "",
    );
    const port = Number(reply.trim().split("\n")[1]);
    if (Number.isInteger(port) && port > 0) return port;
  }
  throw new StackError("STACK_NOT_RUNNING", "no sentinel answered with a primary");
}

/** A redis-server that reports `role:master` itself (not only the sentinels' view of it). */
export async function isPrimary(port: number): Promise<boolean> {
  const reply = await redisCli(port, "ROLE").catch(() => "");
  return reply.split("\n")[0] === "master";
}

/** A data node: loopback only, persistence off (a restart comes back empty, like the plain Redis). */

/**
 * Starts a data node that died again on its own port and directory, as a replica of `primaryPort`
 * (empty, it takes a full copy), and resolves once its link to the primary is up.
 */
export async function restartDataNode(
  node: RedisNodeState,
  primaryPort: number,
  timeoutMs = 30_000,
): Promise<RedisNodeState> {
  const nodeDir = dirname(node.logFile);
  const started = await spawnRedis(node.port, node.logFile, [
    ...serverArgs(node.port, nodeDir),
    "--replicaof",
    HOST,
    String(primaryPort),
  ]);
  await waitReady(started, timeoutMs);
  await waitUntil(
    `redis replica on port ${node.port} in sync with port ${primaryPort}`,
    async () => (await redisCli(node.port, "INFO", "replication")).includes("master_link_status:up"),
    { timeoutMs, intervalMs: 200, detail: () => tailFile(node.logFile, 20) },
  );
  return started.state;
}

/**
 * Whether a sentinel lists `port` as a healthy replica of the primary (flags exactly "slave":
 * neither subjectively down nor disconnected). redis-cli prints each replica's fields as
 * name / value lines, one replica after the other, each starting with "name".
 */
export async function sentinelSeesReplica(sentinel: RedisNodeState, masterName: string, port: number) {
  const lines = (await redisCli(sentinel.port, "SENTINEL", "REPLICAS", masterName)).split("\n");
  let fields = new Map<string, string>();
  const healthy = () => fields.get("port") === String(port) && fields.get("flags") === "slave";
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i] === "name") {
      if (healthy()) return true;
      fields = new Map();
    }
    fields.set(lines[i] as string, lines[i + 1] as string);
  }
  return healthy();
}

interface SpawnedRedis {
  state: RedisNodeState;
  child: Spawned;
}

async function spawnRedis(port: number, logFile: string, args: string[]): Promise<SpawnedRedis> {
  const child = spawnDetached({ command: "redis-server", args, logFile });
  return { state: { pid: child.pid, startTime: child.startTime, port, logFile }, child };
}

function waitReady(node: SpawnedRedis, timeoutMs: number): Promise<void> {
  return waitUntil(`redis on port ${node.state.port}`, () => ping(node.state.port), {
    timeoutMs,
    intervalMs: 100,
    failure: node.child.exitStatus,
    detail: () => tailFile(node.state.logFile, 20),
  });
}

/** One redis-cli command on loopback; its raw output (one reply element a line). */
export function redisCli(port: number, ...args: string[]): Promise<string> {
  return runCommand("redis-cli", ["-h", HOST, "-p", String(port), ...args]);
}
