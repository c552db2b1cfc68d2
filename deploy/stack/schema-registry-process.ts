import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { httpStatus } from "./gateways.ts";
import { HOST } from "./ports.ts";
import { spawnDetached, tailFile, waitUntil } from "./processes.ts";
import type { SchemaRegistryState } from "./state.ts";

/** The stack's Schema Registry: the project's own test stand-in (deploy/stack/schema-registry), not a product part. */
export function schemaRegistryMain(repo: string): string {
  return join(repo, "deploy", "stack", "schema-registry", "src", "main.ts");
}

export function schemaRegistryPlan(dir: string, port: number, bootstrap: string): SchemaRegistryState {
  return {
    url: `http://${HOST}:${port}`,
    port,
    bootstrap,
    topic: "_schemas",
    logFile: join(dir, "schema-registry", "schema-registry.log"),
    pid: 0,
    startTime: null,
  };
}

/**
 * Starts the stand-in and waits until `GET /` answers 200, which it does only after it has
 * replayed `_schemas` (so a restarted registry knows every earlier schema before it is used).
 */
export async function startSchemaRegistryProcess(
  repo: string,
  plan: SchemaRegistryState,
  onSpawned: (state: SchemaRegistryState) => void,
  timeoutMs = 60_000,
): Promise<SchemaRegistryState> {
  mkdirSync(dirname(plan.logFile), { recursive: true });
  const child = spawnDetached({
    command: process.execPath,
    args: [
      schemaRegistryMain(repo),
      "--host",
      HOST,
      "--port",
      String(plan.port),
      "--bootstrap",
      plan.bootstrap,
      "--topic",
      plan.topic,
    ],
    cwd: repo,
    logFile: plan.logFile,
  });
  const state = { ...plan, pid: child.pid, startTime: child.startTime };
  onSpawned(state);
  await waitUntil(`schema registry (${plan.url})`, async () => (await httpStatus(`${plan.url}/`)) === 200, {
    timeoutMs,
    failure: child.exitStatus,
    detail: () => tailFile(plan.logFile, 30),
  });
  return state;
}
