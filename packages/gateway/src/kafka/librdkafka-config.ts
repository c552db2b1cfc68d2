/** Builds librdkafka property maps from the gateway configuration, in one place. */
import { DEFAULT_MESSAGE_TIMEOUT_MS, type GatewayConfig } from "../config.ts";

type Props = Record<string, string | number | boolean>;

export function producerProperties(config: GatewayConfig, index: number): Props {
  return {
    "bootstrap.servers": config.bootstrapServers,
    "client.id": `wharf-${config.id}-producer-${index}`,
    // Durability defaults: a 200 means every in-sync replica has the record.
    acks: "all",
    "enable.idempotence": true,
    "linger.ms": 2,
    // Java's partitioner (murmur2), so a key lands on the same partition as with REST Proxy.
    partitioner: "murmur2_random",
    // HTTP clients give up long before librdkafka's 5-minute default; fail the record first. An
    // Idempotency-Key claim outlives its lease by this (config.ts, idempotency.settleMs).
    "message.timeout.ms": DEFAULT_MESSAGE_TIMEOUT_MS,
    // Wharf's own admission control (produce.max.inflight.*) refuses work before this fills up.
    "queue.buffering.max.messages": Math.max(config.produce.maxInflightRecords * 2, 100_000),
    "queue.buffering.max.kbytes": Math.max(Math.ceil((config.produce.maxInflightBytes * 2) / 1024), 1_048_576),
    ...config.kafka.client,
    ...config.kafka.producer,
    dr_cb: true,
  };
}

export function consumerProperties(config: GatewayConfig, group: string, clientId: string): Props {
  const prefetchKb = Math.max(1, Math.ceil(config.consumer.prefetchMaxBytes / 1024));
  return {
    "bootstrap.servers": config.bootstrapServers,
    "group.id": group,
    "client.id": clientId,
    // librdkafka prefetches up to 64 MiB per consumer by default; an idle HTTP consumer must not.
    "queued.max.messages.kbytes": prefetchKb,
    "fetch.max.bytes": Math.max(config.consumer.prefetchMaxBytes, 1024 * 1024),
    "fetch.message.max.bytes": Math.max(config.consumer.prefetchMaxBytes, 65_536),
    // With the small prefetch cap, librdkafka's default 1 s back-off after a full queue throttles
    // a busy consumer to ~2k records/s (measured in loadtest); 20 ms lifts that ~35x.
    "fetch.queue.backoff.ms": 20,
    // A dead owner's partitions move to the adopting node after the session timeout; keep it short.
    "session.timeout.ms": 10_000,
    "heartbeat.interval.ms": 3000,
    ...config.kafka.client,
    ...config.kafka.consumer,
  };
}
