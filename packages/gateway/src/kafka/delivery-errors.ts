/**
 * Maps librdkafka errors on the produce path to Confluent's codes. Retriable failures (timeouts,
 * broker trouble) become 50003 so clients retry; they are never reported as success.
 */
import { ErrorCode } from "../errors.ts";

export interface DeliveryError {
  errorCode: number;
  message: string;
  /** HTTP status the error would have on its own (v3 in-band reports and single-record answers). */
  status: number;
}

interface RdKafkaLikeError {
  code?: number;
  message?: string;
  isRetriable?: boolean;
}

const librdkafka = {
  QUEUE_FULL: -184,
  MSG_TIMED_OUT: -192,
  TIMED_OUT: -185,
  TRANSPORT: -195,
  ALL_BROKERS_DOWN: -187,
  UNKNOWN_TOPIC: -188,
  UNKNOWN_PARTITION: -190,
  UNKNOWN_TOPIC_OR_PART: 3,
  MSG_SIZE_TOO_LARGE: 10,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  SASL_AUTHENTICATION_FAILED: 58,
  AUTHENTICATION: -169,
} as const;

const retriableCodes = new Set<number>([
  librdkafka.QUEUE_FULL,
  librdkafka.MSG_TIMED_OUT,
  librdkafka.TIMED_OUT,
  librdkafka.TRANSPORT,
  librdkafka.ALL_BROKERS_DOWN,
  librdkafka.NOT_ENOUGH_REPLICAS,
  librdkafka.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
]);

export function deliveryError(error: RdKafkaLikeError): DeliveryError {
  const code = error.code ?? 0;
  const message = error.message ?? "unknown Kafka error";
  switch (code) {
    case librdkafka.UNKNOWN_TOPIC:
    case librdkafka.UNKNOWN_TOPIC_OR_PART:
      return { errorCode: ErrorCode.TopicNotFound, status: 404, message: "Topic not found." };
    case librdkafka.UNKNOWN_PARTITION:
      return { errorCode: ErrorCode.PartitionNotFound, status: 404, message: "Partition not found." };
    case librdkafka.MSG_SIZE_TOO_LARGE:
      return { errorCode: ErrorCode.KafkaBadRequest, status: 400, message: `Record too large: ${message}` };
    case librdkafka.TOPIC_AUTHORIZATION_FAILED:
    case librdkafka.CLUSTER_AUTHORIZATION_FAILED:
      return { errorCode: ErrorCode.Forbidden, status: 403, message: `Not authorized: ${message}` };
    case librdkafka.SASL_AUTHENTICATION_FAILED:
    case librdkafka.AUTHENTICATION:
      return { errorCode: ErrorCode.Unauthenticated, status: 401, message: `Authentication failed: ${message}` };
  }
  if (retriableCodes.has(code) || error.isRetriable) {
    return { errorCode: ErrorCode.KafkaRetriable, status: 503, message };
  }
  return { errorCode: ErrorCode.KafkaError, status: 500, message };
}
