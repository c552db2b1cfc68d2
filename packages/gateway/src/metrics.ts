/** Wharf's Prometheus metrics, one registry per gateway so several gateways can share a process. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export function createMetrics(nodeId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  // Read when /metrics is scraped rather than set on every change: the producer queue changes
  // twice per request, and a prom-client set costs about as much as a small produce's routing.
  const sampled = { producerQueueRecords: () => 0, producerQueueBytes: () => 0, consumerInstancesPaused: () => 0 };
  return {
    registry,
    sampled,
    httpRequests: new Histogram({
      name: "wharf_http_request_duration_seconds",
      help: "HTTP requests by route, method and status",
      labelNames: ["route", "method", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    schemaRegistryRequests: new Counter({
      name: "wharf_schema_registry_requests_total",
      help: "Requests sent to the Schema Registry (cache misses and retries), by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    recordsProduced: new Counter({
      name: "wharf_records_produced_total",
      help: "Records acknowledged by Kafka",
      labelNames: ["topic"],
      registers: [registry],
    }),
    bytesProduced: new Counter({
      name: "wharf_bytes_produced_total",
      help: "Key and value bytes of records acknowledged by Kafka",
      labelNames: ["topic"],
      registers: [registry],
    }),
    produceErrors: new Counter({
      name: "wharf_produce_errors_total",
      help: "Records that Kafka did not acknowledge, by error code",
      labelNames: ["error_code"],
      registers: [registry],
    }),
    produceRejected: new Counter({
      name: "wharf_produce_rejected_total",
      help: "Produce requests refused with 429 because the producer queue was full",
      registers: [registry],
    }),
    producerIdleFlushes: new Counter({
      name: "wharf_producer_idle_flushes_total",
      help: "Flushes started because a record found its producer idle (sent at once instead of after linger.ms)",
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: "wharf_delivery_latency_seconds",
      help: "Time from handing a record to librdkafka to its delivery report",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    producerQueueRecords: new Gauge({
      name: "wharf_producer_queue_records",
      help: "Records handed to librdkafka and awaiting a delivery report",
      registers: [registry],
      collect() {
        this.set(sampled.producerQueueRecords());
      },
    }),
    producerQueueBytes: new Gauge({
      name: "wharf_producer_queue_bytes",
      help: "Bytes handed to librdkafka and awaiting a delivery report",
      registers: [registry],
      collect() {
        this.set(sampled.producerQueueBytes());
      },
    }),
    idempotencyRequests: new Counter({
      name: "wharf_idempotency_requests_total",
      help: "Produce requests with an Idempotency-Key, by outcome (stored, released, replayed, mismatch, in_flight, unavailable, unstored)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    idempotencyRecoveries: new Counter({
      name: "wharf_idempotency_recoveries_total",
      help: "Keyed requests that took over the claim of a node that died mid-request, by result (found: some records were already in Kafka, none: nothing was, refused: the look failed or hit its bounds)",
      labelNames: ["result"],
      registers: [registry],
    }),
    idempotencyUnconfirmed: new Counter({
      name: "wharf_idempotency_unconfirmed_total",
      help: "Keyed records librdkafka reported delivered without an offset, by what the look into their partition found (found: answered with the record's offset, none: answered 50003, refused: the look failed or hit its bounds, answered 50003)",
      labelNames: ["result"],
      registers: [registry],
    }),
    idempotencyFenced: new Counter({
      name: "wharf_idempotency_fenced_total",
      help: "Keyed sends refused with 503 / 50003, nothing written, because the request could no longer show its claim was its own (not renewed within idempotency.lease.ms: a paused or stalled node, Redis away; or taken over)",
      registers: [registry],
    }),
    idempotencyUnreplicated: new Counter({
      name: "wharf_idempotency_unreplicated_total",
      help: "Idempotency-Key writes that idempotency.redis.min.replicas Redis replicas did not confirm in time, by write (claim: the request was refused with 503 / 50003 and wrote nothing; answer: the answer was sent, a retry after a failover may find the claim instead)",
      labelNames: ["write"],
      registers: [registry],
    }),
    idempotencyRedisReplicas: new Gauge({
      name: "wharf_idempotency_redis_replicas",
      help: "Replicas the idempotency store's Redis primary has online, as last read (idempotency.redis.min.replicas=connected WAITs for that many; read about every second)",
      registers: [registry],
    }),
    consumerInstances: new Gauge({
      name: "wharf_consumer_instances",
      help: "Consumer instances owned by this node",
      registers: [registry],
    }),
    consumerInstancesPaused: new Gauge({
      name: "wharf_consumer_instances_paused",
      help: "Consumer instances of this node that stopped fetching because nobody read them for consumer.idle.pause.ms (their librdkafka prefetch freed)",
      registers: [registry],
      collect() {
        this.set(sampled.consumerInstancesPaused());
      },
    }),
    consumerReadAhead: new Counter({
      name: "wharf_consumer_read_ahead_records_total",
      help: "Records consumer instances took from librdkafka ahead of their client's next read (consumer.read.ahead.max.bytes)",
      registers: [registry],
    }),
    recordsConsumed: new Counter({
      name: "wharf_records_consumed_total",
      help: "Records returned to consumer clients",
      registers: [registry],
    }),
    consumerReadsAbandoned: new Counter({
      name: "wharf_consumer_reads_abandoned_total",
      help: "Record reads whose client left before the answer; their records went back for the next read",
      registers: [registry],
    }),
    forwards: new Counter({
      name: "wharf_forwards_total",
      help: "Consumer requests forwarded to the owning node, by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    forwardDuration: new Histogram({
      name: "wharf_forward_duration_seconds",
      help: "Round trip of a request forwarded to the owning node",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    adoptions: new Counter({
      name: "wharf_adoptions_total",
      help: "Consumer instances this node adopted from a node that went away",
      registers: [registry],
    }),
    leaseRenewalFailures: new Counter({
      name: "wharf_lease_renewal_failures_total",
      help: "Lease renewal rounds that failed (Redis unreachable)",
      registers: [registry],
    }),
    leasesLost: new Counter({
      name: "wharf_leases_lost_total",
      help: "Consumer instances closed here because another node took them over",
      registers: [registry],
    }),
    redisErrors: new Counter({
      name: "wharf_redis_errors_total",
      help: "Errors talking to Redis",
      registers: [registry],
    }),
    sseStreams: new Gauge({
      name: "wharf_sse_streams",
      help: "Server-Sent Events streams this node serves, by kind (topic, consumer)",
      labelNames: ["kind"],
      registers: [registry],
    }),
    sseEvents: new Counter({
      name: "wharf_sse_events_total",
      help: "Record events written to Server-Sent Events streams, by kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
    sseResumes: new Counter({
      name: "wharf_sse_resumes_total",
      help: "Streams opened with a Last-Event-ID, by kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
    sseSlowReadersDropped: new Counter({
      name: "wharf_sse_slow_readers_dropped_total",
      help: "Streams dropped because their reader stopped taking events, by kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
    sseTopicConsumers: new Gauge({
      name: "wharf_sse_topic_consumers",
      help: "Kafka consumers reading for topic event streams: shared (one feed for all live streams of a topic, partitions and format) and own (a stream reading from elsewhere)",
      labelNames: ["kind"],
      registers: [registry],
    }),
    sseBufferedBytes: new Gauge({
      name: "wharf_sse_buffered_bytes",
      help: "Bytes written to Server-Sent Events responses and not yet taken by the socket",
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
