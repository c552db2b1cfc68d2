import { existsSync, mkdirSync } from "node:fs";
import { request } from "node:http";
import { dirname, join } from "node:path";
import { StackError } from "./errors.ts";
import { HOST } from "./ports.ts";
import { type Spawned, spawnDetached, tailFile, waitUntil } from "./processes.ts";
import type { GatewayState } from "./state.ts";

/** Confluent REST Proxy's port, kept for a lone gateway so existing clients work unchanged. */
export const DEFAULT_GATEWAY_PORT = 8082;

export interface GatewayPlanInput {
  dir: string;
  main: string;
  index: number;
  port: number;
  internalPort: number;
  bootstrap: string;
  redisUrl: string | null;
  publicUrl: string | null;
  clusterSecret: string;
  extraEnv: Record<string, string>;
}

/**
 * The gateway's entry point. WHARF_STACK_GATEWAY_MAIN swaps in another script, so the stack itself
 * (ports, Redis, haproxy, restarts) can be exercised with a stand-in server.
 */
export function gatewayMain(repo: string): string {
  return process.env.WHARF_STACK_GATEWAY_MAIN ?? join(repo, "packages", "gateway", "src", "main.ts");
}

export function gatewayPlan(input: GatewayPlanInput): GatewayState {
  const id = `gw-${input.index}`;
  const url = `http://${HOST}:${input.port}`;
  const internalUrl = `http://${HOST}:${input.internalPort}`;
  const env: Record<string, string> = {
    ...input.extraEnv,
    WHARF_ID: id,
    WHARF_LISTENERS: url,
    WHARF_INTERNAL_LISTENER: internalUrl,
    WHARF_BOOTSTRAP_SERVERS: input.bootstrap,
    WHARF_PUBLIC_URL: input.publicUrl ?? url,
    WHARF_CLUSTER_SECRET: input.clusterSecret,
  };
  if (input.redisUrl) env.WHARF_REDIS_URL = input.redisUrl;
  return {
    id,
    url,
    internalUrl,
    port: input.port,
    internalPort: input.internalPort,
    main: input.main,
    logFile: join(input.dir, "gateways", `${id}.log`),
    env,
    pid: 0,
    startTime: null,
  };
}

/**
 * Runs `node packages/gateway/src/main.ts` with the caller's environment plus the gateway's own
 * variables (which win), and waits for GET /readyz to answer 200.
 */
export async function startGatewayProcess(
  repo: string,
  plan: GatewayState,
  onSpawned: (state: GatewayState) => void,
  timeoutMs = 60_000,
): Promise<GatewayState> {
  if (!existsSync(plan.main)) {
    throw new StackError("STACK_MISSING_TOOL", `${plan.main} does not exist`);
  }
  mkdirSync(dirname(plan.logFile), { recursive: true });
  const child: Spawned = spawnDetached({
    command: process.execPath,
    args: [plan.main],
    env: { ...process.env, ...plan.env },
    cwd: repo,
    logFile: plan.logFile,
  });
  const state = { ...plan, pid: child.pid, startTime: child.startTime };
  onSpawned(state);
  await waitUntil(`gateway ${plan.id} (${plan.url})`, async () => (await httpStatus(`${plan.url}/readyz`)) === 200, {
    timeoutMs,
    failure: child.exitStatus,
    detail: () => tailFile(plan.logFile, 40),
  });
  return state;
}

/** The status of a GET, or 0 when there is no answer (refused, reset, timed out). */
export function httpStatus(url: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(0));
    req.end();
  });
}
