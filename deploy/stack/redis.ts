import { mkdirSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { HOST } from "./ports.ts";
import { spawnDetached, tailFile, waitUntil } from "./processes.ts";
import type { RedisState } from "./state.ts";

/**
 * A stack's redis-server: on loopback, in the foreground (the stack tracks its pid), and without
 * persistence, so a restart starts empty as the fault tests expect.
 */
export function serverArgs(port: number, dir: string): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    HOST,
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    "--dir",
    dir,
  ];
}

export function redisPlan(dir: string, port: number): RedisState {
  return {
    url: `redis://${HOST}:${port}`,
    port,
    logFile: join(dir, "redis", "redis.log"),
    process: null,
  };
}

/**
 * Starts redis-server in the foreground as our own child (tracked by pid, not --daemonize) on the
 * plan's port, with persistence off: the stack's Redis holds only leases and routing that die with it.
 */
export async function startRedisServer(
  plan: RedisState,
  onSpawned: (state: RedisState) => void,
  timeoutMs = 15_000,
): Promise<RedisState> {
  mkdirSync(dirname(plan.logFile), { recursive: true });
  const child = spawnDetached({
    command: "redis-server",
    args: serverArgs(plan.port, dirname(plan.logFile)),
    logFile: plan.logFile,
  });
  const state = {
    ...plan,
    process: { pid: child.pid, startTime: child.startTime },
  };
  onSpawned(state);
  await waitUntil(`redis on port ${plan.port}`, () => ping(plan.port), {
    timeoutMs,
    intervalMs: 100,
    failure: child.exitStatus,
    detail: () => tailFile(plan.logFile, 20),
  });
  return state;
}

/** True once Redis answers PING (not merely accepts the connection). */
export function ping(port: number, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}
