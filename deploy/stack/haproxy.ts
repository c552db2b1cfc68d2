import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { httpStatus } from "./gateways.ts";
import { canConnect, HOST } from "./ports.ts";
import { spawnDetached, tailFile, waitUntil } from "./processes.ts";
import type { GatewayState, LbState } from "./state.ts";

export function lbPlan(dir: string, port: number): LbState {
  const base = join(dir, "haproxy");
  return {
    url: `http://${HOST}:${port}`,
    port,
    configFile: join(base, "haproxy.cfg"),
    logFile: join(base, "haproxy.log"),
    pid: 0,
    startTime: null,
  };
}

/**
 * Round robin over every gateway, taking a gateway out while /readyz fails. Timeouts outlast a
 * consumer's long poll (the records endpoint may hold a request for its whole timeout), and a
 * request is re-sent to another gateway only when the connection failed, so a produce is never
 * delivered twice by the balancer.
 */
export function haproxyConfig(port: number, gateways: Pick<GatewayState, "id" | "port">[]): string {
  return [
    "global",
    "  maxconn 4096",
    "",
    "defaults",
    "  mode http",
    "  timeout connect 5s",
    "  timeout client 90s",
    "  timeout server 90s",
    "  timeout http-request 30s",
    "  timeout http-keep-alive 30s",
    "  timeout queue 30s",
    "  retries 2",
    "  option redispatch 1",
    "",
    "frontend wharf",
    `  bind ${HOST}:${port}`,
    "  default_backend gateways",
    "",
    "backend gateways",
    "  balance roundrobin",
    "  option httpchk GET /readyz",
    "  http-check expect status 200",
    "  default-server inter 1s fall 2 rise 1",
    ...gateways.map((g) => `  server ${g.id} ${HOST}:${g.port} check`),
    "",
  ].join("\n");
}

/** haproxy in the foreground (-db) as our tracked child; ready when it serves /readyz. */
export async function startHaproxy(
  plan: LbState,
  gateways: GatewayState[],
  onSpawned: (state: LbState) => void,
  timeoutMs = 15_000,
): Promise<LbState> {
  mkdirSync(dirname(plan.configFile), { recursive: true });
  writeFileSync(plan.configFile, haproxyConfig(plan.port, gateways));
  const child = spawnDetached({
    command: "haproxy",
    args: ["-f", plan.configFile, "-db"],
    logFile: plan.logFile,
  });
  const state = { ...plan, pid: child.pid, startTime: child.startTime };
  onSpawned(state);
  // With no gateway behind it haproxy answers 503: then a listening port is all there is to wait for.
  const ready =
    gateways.length > 0 ? async () => (await httpStatus(`${plan.url}/readyz`)) === 200 : () => canConnect(plan.port);
  await waitUntil(`haproxy on port ${plan.port}`, ready, {
    timeoutMs,
    intervalMs: 100,
    failure: child.exitStatus,
    detail: () => tailFile(plan.logFile, 20),
  });
  return state;
}
