/**
 * createGateway(config) builds one Wharf node: Kafka clients, HTTP app, servers. Nothing is a
 * module-level singleton, so a test can run several gateways in one process.
 */
import type { AddressInfo } from "node:net";
import type { Hono } from "hono";
import type { GatewayConfig } from "./config.ts";
import { createApp } from "./http/app.ts";
import { createHttpServer } from "./http/server.ts";
import { createKafkaAdmin } from "./kafka/admin-client.ts";
import { createProducerPool } from "./kafka/producer-pool.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMetrics } from "./metrics.ts";

export interface Gateway {
  readonly app: Hono;
  /** Starts the listeners; resolves with the bound public URL (port 0 picks a free port). */
  listen(): Promise<{ url: string }>;
  /** Graceful stop: refuse new work, finish in-flight requests, flush producers, close clients. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  log?: Logger;
}

const READINESS_CACHE_MS = 1000;

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel, { node: config.id });
  const metrics = createMetrics(config.id);
  const admin = createKafkaAdmin(config);
  const producers = await createProducerPool(config, log, metrics);

  let closing = false;
  let readiness: { at: number; reason: string | null } = { at: 0, reason: "starting" };
  const notReadyReason = async (): Promise<string | null> => {
    if (closing) return "shutting down";
    if (!producers.ready) return "producers not connected";
    if (Date.now() - readiness.at < READINESS_CACHE_MS) return readiness.reason;
    let reason: string | null = null;
    try {
      await producers.ping(2000);
    } catch (error) {
      reason = `Kafka unreachable: ${(error as Error).message}`;
    }
    readiness = { at: Date.now(), reason };
    return reason;
  };

  const app = createApp({ config, log, metrics, producers, admin, notReadyReason });
  const publicServer = createHttpServer(app.fetch, config.http);

  return {
    app,
    async listen() {
      const address: AddressInfo = await publicServer.listen(config.listener);
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      const url = `http://${host}:${address.port}`;
      log.info("listening", { url });
      return { url };
    },
    async close() {
      if (closing) return;
      closing = true;
      log.info("shutting down");
      // Reverse order of start-up: stop taking requests, then flush what was accepted.
      await publicServer.close(config.shutdownTimeoutMs);
      await producers.close();
      await admin.close();
      metrics.registry.clear();
      log.info("stopped");
    },
  };
}
