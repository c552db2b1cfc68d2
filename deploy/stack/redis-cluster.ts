/**
 * A small real Redis Cluster for tests: three masters (no replicas), each a redis-server with
 * `--cluster-enabled yes` on loopback, joined by `redis-cli --cluster create`. Not part of
 * `pnpm stack up`: a test starts one beside its stack and stops it in teardown.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createPortAllocator, HOST } from "./ports.ts";
import { runCommand, type Spawned, spawnDetached, stopProcess, tailFile, waitUntil } from "./processes.ts";
import { ping, serverArgs } from "./redis.ts";
import { redisCli } from "./redis-sentinel.ts";

export interface RedisClusterHandle {
  /** `redis.cluster.nodes` for the gateways: every master's host:port. */
  nodes: string;
  ports: number[];
  /** Stops every node and removes the cluster's directory. */
  stop(): Promise<void>;
}

export async function startRedisCluster(dir: string, masters = 3, timeoutMs = 30_000): Promise<RedisClusterHandle> {
  const ports = createPortAllocator();
  const started: Spawned[] = [];
  const nodePorts: number[] = [];
  const stop = async () => {
    await Promise.all(started.map((ref) => stopProcess(ref)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await ports.take(`redis cluster node ${i + 1}`);
      // The bus port is chosen too: port + 10000 might be taken or beyond the free range.
      const busPort = await ports.take(`redis cluster node ${i + 1} bus`);
      const nodeDir = join(dir, `node-${i + 1}`);
      mkdirSync(nodeDir, { recursive: true });
      const logFile = join(nodeDir, "redis.log");
      const child = spawnDetached({
        command: "redis-server",
        args: [
          ...serverArgs(port, nodeDir),
          "--cluster-port",
          String(busPort),
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(nodeDir, "nodes.conf"),
          // Redis's own default. There are no replicas to fail over to, so a node marked failed
          // only takes the whole cluster down (CLUSTERDOWN) until it is seen again: with 2 s, a
          // busy machine's stall of one node could become a cluster outage mid-test.
          "--cluster-node-timeout",
          "15000",
        ],
        logFile,
      });
      started.push(child);
      nodePorts.push(port);
      await waitUntil(`redis cluster node on port ${port}`, () => ping(port), {
        timeoutMs,
        intervalMs: 100,
        failure: child.exitStatus,
        detail: () => tailFile(logFile, 20),
      });
    }
    await runCommand("redis-cli", [
      "--cluster",
      "create",
      ...nodePorts.map((port) => `${HOST}:${port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    // `create` returns once the slots are assigned; each node agrees the cluster is up a moment later.
    for (const port of nodePorts) {
      await waitUntil(
        `redis cluster node on port ${port} reports cluster_state:ok`,
        async () => (await redisCli(port, "CLUSTER", "INFO").catch(() => "")).includes("cluster_state:ok"),
        { timeoutMs, intervalMs: 200 },
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: nodePorts.map((port) => `${HOST}:${port}`).join(","), ports: nodePorts, stop };
}
