import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp } from "./app.ts";
import { openKafkaLog } from "./kafka-log.ts";
import { createRequestCounter } from "./metrics.ts";
import { createRegistry } from "./registry.ts";
import { RegistryState } from "./state.ts";

export interface StandinConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  bootstrap: string;
  topic: string;
}

export interface Standin {
  url: string;
  close(): Promise<void>;
}

/**
 * Replays `_schemas` into memory, then listens: a registry that answers is one that already knows
 * every schema written before it started.
 */
export async function startStandin(config: StandinConfig): Promise<Standin> {
  const { entries, log } = await openKafkaLog({ bootstrap: config.bootstrap, topic: config.topic });
  const state = new RegistryState();
  for (const entry of entries) state.apply(entry);
  const app = createApp(createRegistry(state, log), createRequestCounter());
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await log.close();
    },
  };
}
