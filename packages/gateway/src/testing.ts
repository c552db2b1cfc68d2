/** Helpers shared by unit tests. */
import { RestError } from "./errors.ts";
import type { ConsumerSettings } from "./kafka/consumer-instance.ts";
import type { OutgoingRecord, ProducerPool } from "./kafka/producer-pool.ts";

/** A v2 consumer instance's settings as created with only a name (json format, group "g"). */
export function consumerSettings(overrides: Partial<ConsumerSettings> = {}): ConsumerSettings {
  return {
    group: "g",
    name: "c1",
    format: "json",
    autoOffsetReset: null,
    autoCommit: false,
    fetchMinBytes: null,
    requestTimeoutMs: null,
    ...overrides,
  };
}

/** The RestError `fn` throws; fails the test if it throws nothing or something else. */
export function thrownRestError(fn: () => unknown): RestError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RestError) return error;
    throw error;
  }
  throw new Error("expected a RestError");
}

/**
 * A producer pool that acknowledges every record at once, at the next offset of one log, and keeps
 * what it was sent (empty `sent` between tests with `sent.length = 0`).
 */
export function recordingProducerPool(timestamp: number): { pool: ProducerPool; sent: OutgoingRecord[] } {
  const sent: OutgoingRecord[] = [];
  const pool: ProducerPool = {
    ready: true,
    inflightRecords: 0,
    ping: async () => {},
    nextLane: () => 0,
    partitionCount: async () => 3,
    send: async (records) =>
      records.map((record) => {
        const offset = sent.push(record) - 1;
        return { ok: true, partition: record.partition ?? 0, offset, timestamp };
      }),
    close: async () => {},
  };
  return { pool, sent };
}
