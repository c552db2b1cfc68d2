/**
 * Reading a librdkafka consumer without blocking: every poll has a zero timeout, and a read that
 * must wait sleeps on librdkafka's queue-not-empty callback (or its deadline) instead of inside a
 * blocking consume, which would hold a libuv threadpool thread for the whole wait and let many
 * idle long-polls starve DNS and file work.
 */
import type Kafka from "@confluentinc/kafka-javascript";
import { ErrorCode, RestError } from "../errors.ts";

const POLL_BATCH = 500;
/** A wait also ends after this long, in case a queue-not-empty wake-up was missed. */
const FALLBACK_POLL_MS = 100;
const ERR_STATE = -172;
/** Consume errors that end a read: authorization and authentication failures. */
const failsRead = new Set([29, 30, 31, 58]);

interface Consuming {
  consume(count: number, cb: (error: Kafka.LibrdKafkaError, messages: Kafka.Message[]) => void): void;
}

export class QueuePoller {
  readonly #consumer: Consuming;
  #wake: (() => void) | null = null;
  #signalled = false;

  constructor(consumer: Consuming) {
    this.#consumer = consumer;
  }

  /** From librdkafka's queue_non_empty_cb, or from close(): ends a wait in progress. */
  signal(): void {
    this.#signalled = true;
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** What librdkafka has queued now (up to `count` records), without waiting. */
  poll(count = POLL_BATCH): Promise<Kafka.Message[]> {
    this.#signalled = false;
    return new Promise((resolve, reject) =>
      this.#consumer.consume(count, (error, messages) => {
        if (!error) return resolve(messages);
        // librdkafka reports transient conditions (coordinator or leader moved, broker down,
        // unknown topic during a rebalance) through consume and recovers by itself.
        if (error.isFatal || failsRead.has(error.code)) return reject(kafkaFailure(error));
        resolve([]);
      }),
    );
  }

  /** Sleeps until records are signalled, the deadline passes, or the fallback interval ends. */
  waitForData(deadline: number): Promise<void> {
    if (this.#signalled) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(
        () => {
          this.#wake = null;
          resolve();
        },
        Math.max(0, Math.min(FALLBACK_POLL_MS, deadline - Date.now())),
      );
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

const illegalState = (message: string) => new RestError(409, ErrorCode.IllegalState, `Illegal state: ${message}`);

/**
 * Errors of a commit or committed-offset lookup that pass once the group's coordinator has moved
 * or a broker is back (Kafka's RetriableException family): timed out, all brokers down, transport,
 * request timed out, coordinator loading / not available / not coordinator, rebalance in progress,
 * and timed out in librdkafka's queue before it was sent (-166: seen in a consumer's rewind, a
 * committed-offset lookup then a seek, while a broker was paused). The fault suite saw them answered 500 while a broker
 * was killed or paused; a client can only act on 503.
 */
const retriableCodes = new Set([-166, -185, -187, -195, 7, 14, 15, 16, 27]);

/** A librdkafka consumer error as the client sees it. */
export function kafkaFailure(error: { code?: number; message?: string }): RestError {
  const message = error.message ?? "unknown Kafka error";
  if (error.code === ERR_STATE) return illegalState(message);
  if (error.code === 29 || error.code === 30) return new RestError(403, ErrorCode.Forbidden, message);
  if (error.code === 58) return new RestError(401, ErrorCode.Unauthenticated, message);
  if (retriableCodes.has(error.code ?? 0)) return new RestError(503, ErrorCode.KafkaRetriable, message);
  return new RestError(500, ErrorCode.KafkaError, message);
}
