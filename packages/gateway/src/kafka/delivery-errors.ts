/**
 * Maps librdkafka errors on the produce path to Confluent's codes. Retriable failures (timeouts,
 * broker trouble) become 50003 so clients retry; they are never reported as success.
 */
import { ErrorCode } from "../errors.ts";

export interface DeliveryError {
  /** The code of REST Proxy's KafkaExceptionMapper (v3 in-band reports, whole-request errors). */
  errorCode: number;
  message: string;
  /** HTTP status the error has on its own, when it fails a whole request. */
  status: number;
  /** Kafka would call it a RetriableException: sending the record again may succeed. */
  retriable: boolean;
}

interface RdKafkaLikeError {
  code?: number;
  message?: string;
  isRetriable?: boolean;
}

/** librdkafka error codes (negative: local to the client; positive: Kafka protocol errors). */
export const librdkafka = {
  PURGE_INFLIGHT: -151,
  PURGE_QUEUE: -152,
  AUTHENTICATION: -169,
  QUEUE_FULL: -184,
  TIMED_OUT: -185,
  ALL_BROKERS_DOWN: -187,
  UNKNOWN_TOPIC: -188,
  UNKNOWN_PARTITION: -190,
  MSG_TIMED_OUT: -192,
  TRANSPORT: -195,
  UNKNOWN_TOPIC_OR_PART: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_FOR_PARTITION: 6,
  REQUEST_TIMED_OUT: 7,
  MSG_SIZE_TOO_LARGE: 10,
  NETWORK_EXCEPTION: 13,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  KAFKA_STORAGE_ERROR: 56,
  SASL_AUTHENTICATION_FAILED: 58,
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 65,
} as const;

/** The errors Kafka's Java client raises as RetriableException (or that librdkafka gives up on after retrying). */
const retriableCodes = new Set<number>([
  librdkafka.PURGE_INFLIGHT,
  librdkafka.PURGE_QUEUE,
  librdkafka.QUEUE_FULL,
  librdkafka.TIMED_OUT,
  librdkafka.ALL_BROKERS_DOWN,
  librdkafka.UNKNOWN_TOPIC,
  librdkafka.UNKNOWN_PARTITION,
  librdkafka.MSG_TIMED_OUT,
  librdkafka.TRANSPORT,
  librdkafka.UNKNOWN_TOPIC_OR_PART,
  librdkafka.LEADER_NOT_AVAILABLE,
  librdkafka.NOT_LEADER_FOR_PARTITION,
  librdkafka.REQUEST_TIMED_OUT,
  librdkafka.NETWORK_EXCEPTION,
  librdkafka.NOT_ENOUGH_REPLICAS,
  librdkafka.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  librdkafka.KAFKA_STORAGE_ERROR,
]);

const authorizationCodes = new Set<number>([
  librdkafka.TOPIC_AUTHORIZATION_FAILED,
  librdkafka.GROUP_AUTHORIZATION_FAILED,
  librdkafka.CLUSTER_AUTHORIZATION_FAILED,
  librdkafka.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  librdkafka.DELEGATION_TOKEN_AUTHORIZATION_FAILED,
]);

const authenticationCodes = new Set<number>([
  librdkafka.AUTHENTICATION,
  librdkafka.SASL_AUTHENTICATION_FAILED,
  librdkafka.UNSUPPORTED_SASL_MECHANISM,
  librdkafka.ILLEGAL_SASL_STATE,
]);

export function deliveryError(error: RdKafkaLikeError): DeliveryError {
  const code = error.code ?? 0;
  const message = error.message ?? "unknown Kafka error";
  const retriable = retriableCodes.has(code) || error.isRetriable === true;
  if (authenticationCodes.has(code)) {
    return { errorCode: ErrorCode.Unauthenticated, status: 401, message, retriable: false };
  }
  if (authorizationCodes.has(code)) {
    return { errorCode: ErrorCode.Forbidden, status: 403, message, retriable: false };
  }
  switch (code) {
    // Deliberate deviation: REST Proxy's producer waits max.block.ms (60 s) for an unknown topic
    // and then reports a timeout; librdkafka knows at once, and Wharf says so with 40401/40402.
    case librdkafka.UNKNOWN_TOPIC:
    case librdkafka.UNKNOWN_TOPIC_OR_PART:
      return { errorCode: ErrorCode.TopicNotFound, status: 404, message: "Topic not found.", retriable };
    case librdkafka.UNKNOWN_PARTITION:
      return { errorCode: ErrorCode.PartitionNotFound, status: 404, message: "Partition not found.", retriable };
    // RecordTooLargeException: 413 / 413 in REST Proxy.
    case librdkafka.MSG_SIZE_TOO_LARGE:
      return { errorCode: ErrorCode.PayloadTooLarge, status: 413, message, retriable: false };
  }
  // A whole request that fails on a retriable error (e.g. the topic lookup timed out) is a 503
  // rather than REST Proxy's 500: nothing was written, and load balancers know to retry a 503.
  if (retriable) return { errorCode: ErrorCode.KafkaRetriable, status: 503, message, retriable };
  return { errorCode: ErrorCode.KafkaError, status: 500, message, retriable };
}

/**
 * A success librdkafka could not back with an offset (see producer-pool.ts): the record may or may
 * not be stored, so the client is told to retry. The pool marks such a result `unconfirmed`, and
 * a keyed request first looks for the record in Kafka (idempotency/writes.ts).
 */
export function unconfirmedDelivery(): DeliveryError {
  return {
    errorCode: ErrorCode.KafkaRetriable,
    status: 503,
    message: "Kafka did not confirm the record with an offset; it may not have been stored. Retry.",
    retriable: true,
  };
}

/**
 * The per-record error_code of a v2 produce response. REST Proxy's v2 knows only four
 * (AbstractProduceAction#errorCodeFromProducerException), and clients branch on them.
 */
export function v2RecordErrorCode(error: DeliveryError): number {
  if (error.errorCode === ErrorCode.Unauthenticated || error.errorCode === ErrorCode.Forbidden) return error.errorCode;
  return error.retriable ? ErrorCode.KafkaRetriable : ErrorCode.KafkaError;
}
