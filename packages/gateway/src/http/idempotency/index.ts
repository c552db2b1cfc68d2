/**
 * The Idempotency-Key support of produce routes: the middleware and the store it keeps keys in,
 * Redis when the cluster has one (keys are then honoured on every node), memory otherwise.
 */
import type { MiddlewareHandler } from "hono";
import type { GatewayConfig } from "../../config.ts";
import type { ProducerPool } from "../../kafka/producer-pool.ts";
import type { Logger } from "../../log.ts";
import type { Metrics } from "../../metrics.ts";
import { createIdempotencyMiddleware } from "./middleware.ts";
import { createRecovery } from "./recovery.ts";
import { createMemoryStore } from "./store-memory.ts";
import { createRedisStore } from "./store-redis.ts";

export { IDEMPOTENCY_HEADER, REPLAY_HEADER } from "./key.ts";
export { CLAIM_HEADER } from "./record-header.ts";
export { type SendRecords, sendRecords } from "./writes.ts";

export interface Idempotency {
  /** For produce routes only, after authentication (keys are scoped per principal). */
  readonly middleware: MiddlewareHandler;
  readonly distributed: boolean;
  close(): Promise<void>;
}

export function createIdempotency(
  config: GatewayConfig,
  producers: ProducerPool,
  log: Logger,
  metrics: Metrics,
  /** Tests only: see GatewayOptions.holdKeyedWrite. */
  holdWrite?: () => Promise<void>,
): Idempotency {
  const store = config.redis
    ? createRedisStore(config.redis, log, {
        waitMs: config.redisWaitMs,
        minReplicas: config.idempotency.minReplicas,
        onUnreplicated: (write) => metrics.idempotencyUnreplicated.inc({ write }),
        onReplicaCount: (replicas) => metrics.idempotencyRedisReplicas.set(replicas),
      })
    : createMemoryStore({ maxBytes: config.idempotency.memoryMaxBytes });
  const middleware = createIdempotencyMiddleware({
    store,
    recovery: createRecovery(config, producers, config.idempotency.recovery),
    settings: config.idempotency,
    maxBodyBytes: config.http.maxBodyBytes,
    log,
    metrics,
    ...(holdWrite ? { holdWrite } : {}),
  });
  return { middleware, distributed: config.redis !== null, close: () => store.close() };
}

/** What produce routes use when no idempotency is wired in (route unit tests). */
export const withoutIdempotency: MiddlewareHandler = (_c, next) => next();
