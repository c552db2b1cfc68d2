/**
 * /readyz's view of Kafka. A ping asks one broker for metadata, and librdkafka may pick one that
 * is down or paused: that is one broker, not the cluster, and every node asks at about the same
 * time, so failing readiness on one unanswered ping takes every node out of the load balancer at
 * once and turns a broker fault into refusals for all partitions. So a node that has reached Kafka
 * stays ready until its pings have gone unanswered for `graceMs`; before the first answer it is
 * not ready. Probes are answered from the last result while a ping runs in the background, so a
 * slow ping never outlasts the prober's own timeout.
 */
export interface KafkaReadiness {
  /** Why this node should not get traffic, or null. */
  problem(): Promise<string | null>;
}

export interface KafkaReadinessOptions {
  ping: () => Promise<void>;
  /** Pings at most this often. */
  intervalMs: number;
  graceMs: number;
  now?: () => number;
}

export function createKafkaReadiness(options: KafkaReadinessOptions): KafkaReadiness {
  const now = options.now ?? Date.now;
  let answeredAt: number | null = null;
  let lastError: string | null = "no answer from Kafka yet";
  let checkedAt = Number.NEGATIVE_INFINITY;
  let pinging: Promise<void> | null = null;

  const check = (): Promise<void> => {
    pinging ??= options
      .ping()
      .then(
        () => {
          answeredAt = now();
          lastError = null;
        },
        (error: Error) => {
          lastError = error.message;
        },
      )
      .finally(() => {
        checkedAt = now();
        pinging = null;
      });
    return pinging;
  };

  return {
    async problem() {
      if (now() - checkedAt >= options.intervalMs) {
        const running = check();
        // Until Kafka has answered once there is no earlier answer to go by: wait for this one.
        if (answeredAt === null) await running;
      }
      if (lastError === null) return null;
      if (answeredAt !== null && now() - answeredAt < options.graceMs) return null;
      return `Kafka unreachable: ${lastError}`;
    },
  };
}
