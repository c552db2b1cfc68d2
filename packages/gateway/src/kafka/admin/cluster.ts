/** The cluster and its brokers: @platformatic/kafka's metadata (librdkafka's binding has no cluster id). */
import type { KafkaAdmin } from "../admin-client.ts";
import { clusterNotFound, kafkaCall, notFound } from "./errors.ts";
import type { BrokerInfo, ClusterInfo } from "./types.ts";

export async function describeCluster(admin: KafkaAdmin): Promise<ClusterInfo> {
  const metadata = await kafkaCall(admin.client.metadata({ topics: [], forceUpdate: true }));
  const brokers: BrokerInfo[] = [...metadata.brokers]
    .map(([id, broker]) => ({ id, host: broker.host, port: broker.port, rack: broker.rack ?? null }))
    .sort((a, b) => a.id - b.id);
  return {
    id: metadata.id,
    controllerId: metadata.controllerId >= 0 ? metadata.controllerId : null,
    brokers,
  };
}

/**
 * Every v3 admin route names a cluster; like REST Proxy, one that is not the cluster Wharf talks
 * to is 404 / 404. (The v3 produce routes echo the id without checking it, as REST Proxy does.)
 */
export async function requireCluster(admin: KafkaAdmin, clusterId: string): Promise<string> {
  const id = await admin.clusterId();
  if (id !== clusterId) throw clusterNotFound(clusterId);
  return id;
}

export async function getBroker(admin: KafkaAdmin, brokerId: number, message?: string): Promise<BrokerInfo> {
  const broker = (await describeCluster(admin)).brokers.find((b) => b.id === brokerId);
  if (!broker) throw notFound(message);
  return broker;
}
