/**
 * Starts the real stack once for the integration suite: Apache Kafka (KRaft; 3 brokers, or 1 with
 * WHARF_TEST_BROKERS=1), Redis, the Schema Registry stand-in, three gateway processes (pointed at
 * it) and haproxy round-robin in front. Tests read its URL as `inject("stack").schemaRegistry`.
 */
import { resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { type StackInfo, startStack, stopStack } from "../../../../deploy/stack/index.ts";

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

/** Short timeouts so failover tests run in seconds, not minutes. */
export const testGatewayEnv = {
  WHARF_CLUSTER_HEARTBEAT_MS: "500",
  WHARF_CLUSTER_NODE_TTL_MS: "3000",
  WHARF_CLUSTER_LEASE_TTL_MS: "3000",
  WHARF_CONSUMER_SESSION_TIMEOUT_MS: "6000",
  WHARF_CONSUMER_HEARTBEAT_INTERVAL_MS: "1000",
  WHARF_LOG_LEVEL: "info",
  // Event streams: heartbeats and the slow-reader drop within a test's patience.
  WHARF_STREAM_HEARTBEAT_MS: "1000",
  WHARF_STREAM_SLOW_READER_TIMEOUT_MS: "3000",
};

/**
 * WHARF_TEST_STACK_DIR lets two suites run side by side on one machine without stopping each
 * other's stack. It is taken out of the environment at once: gateways inherit this process's
 * environment and would refuse it as an unknown WHARF_ setting.
 */
const dir = resolve(process.env.WHARF_TEST_STACK_DIR || resolve(import.meta.dirname, "../../../../.stack-test"));
const brokers = Number(process.env.WHARF_TEST_BROKERS ?? 3);
delete process.env.WHARF_TEST_STACK_DIR;
delete process.env.WHARF_TEST_BROKERS;

export default async function setup(project: TestProject) {
  await stopStack(dir).catch(() => {});
  const stack = await startStack({
    brokers,
    // StandardAuthorizer on (ANONYMOUS is super user) so the ACL endpoints run for real.
    authorizer: true,
    // A SASL_SSL listener (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER) beside PLAINTEXT, for the Kafka security tests.
    saslSsl: true,
    gateways: 3,
    lb: true,
    redisLocal: true,
    schemaRegistry: true,
    gatewayPort: 0,
    gatewayEnv: testGatewayEnv,
    dir,
    log: () => {},
  });
  project.provide("stack", stack);
  return async () => {
    // KEEP_TEST_STACK=1 leaves the stack (and its logs) running for a post-mortem.
    if (process.env.KEEP_TEST_STACK !== "1") await stopStack(dir);
  };
}
