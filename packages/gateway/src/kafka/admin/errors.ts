/**
 * The one place where a failed admin call becomes a Confluent error. Both admin clients report
 * Kafka's own numeric error codes (librdkafka as `code`, @platformatic/kafka as a ProtocolError's
 * `apiCode`, nested in MultipleErrors), so one table serves both.
 *
 * The table follows rest-utils' KafkaExceptionMapper, which REST Proxy uses: a handful of Kafka
 * errors are the client's fault (400 / 40002), an unknown topic or partition is 404 / 40403,
 * authorization 403 / 40301, anything retriable 500 / 50003 and the rest 500 / 50002.
 */
import { protocolErrors, protocolErrorsCodesById } from "@platformatic/kafka";
import { ErrorCode, RestError } from "../../errors.ts";

/** Kafka error codes REST Proxy answers with 400 / 40002. */
const badRequestCodes = new Set([
  -1, // UNKNOWN_SERVER_ERROR (rest-utils maps UnknownServerException to 40002, a kept quirk)
  17, // INVALID_TOPIC_EXCEPTION
  35, // UNSUPPORTED_VERSION
  36, // TOPIC_ALREADY_EXISTS
  37, // INVALID_PARTITIONS
  38, // INVALID_REPLICATION_FACTOR
  39, // INVALID_REPLICA_ASSIGNMENT
  40, // INVALID_CONFIG
  42, // INVALID_REQUEST
  44, // POLICY_VIOLATION
  54, // SECURITY_DISABLED (no authorizer on the brokers)
]);
const forbiddenCodes = new Set([29, 30, 31, 53, 86]); // *_AUTHORIZATION_FAILED
const unauthenticatedCodes = new Set([58]); // SASL_AUTHENTICATION_FAILED
export const UNKNOWN_TOPIC_OR_PARTITION = 3;
export const GROUP_ID_NOT_FOUND = 69;
/** librdkafka's local codes that mean "try again" (timed out, transport, all brokers down...). */
const localRetriableCodes = new Set([-185, -187, -192, -195, -172]);

interface KafkaFailure {
  code: number;
  message: string;
  retriable: boolean;
}

const definitionOf = (code: number) => {
  const id = (protocolErrorsCodesById as Record<number, string | undefined>)[code];
  return id ? (protocolErrors as Record<string, { message: string; canRetry: boolean }>)[id] : undefined;
};

/** Kafka's error code and message in whatever a client threw, or null for anything else. */
export function kafkaFailure(error: unknown): KafkaFailure | null {
  const seen = new Set<unknown>();
  const visit = (e: unknown): KafkaFailure | null => {
    if (!e || typeof e !== "object" || seen.has(e)) return null;
    seen.add(e);
    const candidate = e as {
      apiCode?: unknown;
      serverErrorMessage?: unknown;
      code?: unknown;
      message?: unknown;
      origin?: unknown;
      isRetriable?: unknown;
      errors?: unknown;
      cause?: unknown;
    };
    // @platformatic/kafka: a ProtocolError carries the broker's code and detailed message.
    if (typeof candidate.apiCode === "number") {
      const definition = definitionOf(candidate.apiCode);
      const detail = typeof candidate.serverErrorMessage === "string" ? candidate.serverErrorMessage : "";
      return {
        code: candidate.apiCode,
        message: detail || definition?.message || String(candidate.message),
        retriable: definition?.canRetry ?? false,
      };
    }
    // librdkafka: a LibrdKafkaError has a numeric code, negative for its own (local) errors.
    if (typeof candidate.code === "number" && typeof candidate.message === "string") {
      const definition = candidate.code > 0 || candidate.code === -1 ? definitionOf(candidate.code) : undefined;
      // librdkafka's generic text ("Broker: Unknown topic or partition") is replaced by Kafka's own.
      const generic = candidate.message.startsWith("Broker: ") || candidate.message === "";
      return {
        code: candidate.code,
        message: generic && definition ? definition.message : candidate.message,
        retriable:
          candidate.isRetriable === true || localRetriableCodes.has(candidate.code) || definition?.canRetry === true,
      };
    }
    for (const inner of Array.isArray(candidate.errors) ? candidate.errors : []) {
      const found = visit(inner);
      if (found) return found;
    }
    return visit(candidate.cause);
  };
  return visit(error);
}

/**
 * An error's message followed by those of its causes and nested errors, each once: clients such as
 * @platformatic/kafka wrap the telling reason ("Kafka refused the OAUTHBEARER token") in a generic
 * one ("Cannot connect to any broker").
 */
export function messageChain(error: unknown, limit = 8): string {
  const messages: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown) => {
    if (!e || typeof e !== "object" || seen.has(e) || messages.length >= limit) return;
    seen.add(e);
    const { message, cause, errors } = e as { message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof message === "string" && message !== "" && !messages.includes(message)) messages.push(message);
    for (const inner of Array.isArray(errors) ? errors : []) visit(inner);
    visit(cause);
  };
  visit(error);
  return messages.length > 0 ? messages.join(": ") : String(error);
}

export function toRestError(error: unknown): RestError {
  if (error instanceof RestError) return error;
  const failure = kafkaFailure(error);
  if (!failure) {
    // Network errors and timeouts of @platformatic/kafka carry no Kafka code; both are worth a retry.
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "PLT_KFK_NETWORK" || code === "PLT_KFK_TIMEOUT") {
      return new RestError(500, ErrorCode.KafkaRetriable, messageChain(error));
    }
    return new RestError(500, ErrorCode.KafkaError, messageChain(error));
  }
  if (failure.code === UNKNOWN_TOPIC_OR_PARTITION) {
    return new RestError(404, 40403, failure.message);
  }
  if (badRequestCodes.has(failure.code)) return new RestError(400, ErrorCode.KafkaBadRequest, failure.message);
  if (forbiddenCodes.has(failure.code)) return new RestError(403, ErrorCode.Forbidden, failure.message);
  if (unauthenticatedCodes.has(failure.code)) return new RestError(401, ErrorCode.Unauthenticated, failure.message);
  if (failure.code === 8) return new RestError(503, 50302, failure.message); // BROKER_NOT_AVAILABLE
  if (failure.retriable) return new RestError(500, ErrorCode.KafkaRetriable, failure.message);
  return new RestError(500, ErrorCode.KafkaError, failure.message);
}

/** Awaits an admin call and turns its failure into the matching Confluent error. */
export async function kafkaCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw toRestError(error);
  }
}

/** JAX-RS's NotFoundException as REST Proxy renders it: error_code 404. */
export const notFound = (message = "HTTP 404 Not Found") => new RestError(404, ErrorCode.NotFound, message);
/** What Kafka (and so REST Proxy v3) says about a topic or partition it does not have. */
export const unknownTopicOrPartition = () =>
  new RestError(404, 40403, "This server does not host this topic-partition.");
export const clusterNotFound = (clusterId: string) => notFound(`Cluster ${clusterId} cannot be found.`);
/** JAX-RS's BadRequestException: error_code 400, the message as given. */
export const badRequestParam = (message: string) => new RestError(400, ErrorCode.BadRequest, message);
