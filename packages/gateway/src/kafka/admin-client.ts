/**
 * Cluster metadata for the management plane and v3 URLs. librdkafka's Node binding has no
 * DescribeCluster (no cluster id), so this uses @platformatic/kafka's admin client, a maintained
 * pure-TypeScript Kafka client, rather than hand-written protocol code.
 */
import { Admin } from "@platformatic/kafka";
import type { GatewayConfig } from "../config.ts";
import { kafkaRetriable } from "../errors.ts";
import { messageChain } from "./admin/errors.ts";
import { createRdkafkaAdmin, type RdkafkaAdmin } from "./admin/rdkafka.ts";
import { adminSecurityOptions } from "./admin-security.ts";

export interface KafkaAdmin {
  clusterId(): Promise<string>;
  readonly client: Admin;
  /** librdkafka's admin client for what it serves well (see kafka/admin/index.ts). */
  readonly rdkafka: RdkafkaAdmin;
  close(): Promise<void>;
}

export function createKafkaAdmin(config: GatewayConfig): KafkaAdmin {
  const client = new Admin({
    clientId: `wharf-${config.id}-admin`,
    bootstrapBrokers: config.bootstrapServers.split(",").map((s) => s.trim()),
    timeout: 10_000,
    retries: 2,
    // The same TLS/SASL settings as librdkafka gets (client.* then admin.*).
    ...adminSecurityOptions({ ...config.kafka.client, ...config.kafka.admin }),
  });
  const rdkafka = createRdkafkaAdmin(config);
  let clusterId: string | null = null;
  return {
    client,
    rdkafka,
    async clusterId() {
      if (clusterId) return clusterId;
      try {
        const metadata = await client.metadata({ topics: [] });
        clusterId = metadata.id;
        return clusterId;
      } catch (error) {
        throw kafkaRetriable(`cannot read cluster metadata: ${messageChain(error)}`);
      }
    },
    close: async () => {
      await Promise.all([client.close(), rdkafka.close()]);
    },
  };
}
