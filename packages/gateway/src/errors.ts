/**
 * Every failure a client can see, as one class per kind with a stable Confluent error code.
 * Routes throw these; `http/error-handler.ts` is the only place that turns them into responses.
 */
export class RestError extends Error {
  readonly status: number;
  readonly errorCode: number;
  /** Extra response headers, e.g. Retry-After on backpressure. */
  readonly headers: Record<string, string>;

  constructor(status: number, errorCode: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.errorCode = errorCode;
    this.headers = headers;
  }
}

/** Confluent's error codes, named as kafka-rest names them (Errors.java). */
export const ErrorCode = {
  BadRequest: 400,
  InvalidConsumerConfigConstraint: 40001,
  KafkaBadRequest: 40002,
  /** Wharf's own: an Idempotency-Key header that is not an sf-string. */
  InvalidIdempotencyKey: 40003,
  Unauthenticated: 40101,
  Forbidden: 40301,
  NotFound: 404,
  TopicNotFound: 40401,
  PartitionNotFound: 40402,
  ConsumerInstanceNotFound: 40403,
  LeaderNotAvailable: 40404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  ConsumerFormatMismatch: 40601,
  Conflict: 409,
  ConsumerAlreadySubscribed: 40901,
  ConsumerAlreadyExists: 40902,
  IllegalState: 40903,
  /** Wharf's own: the first request with this Idempotency-Key has not been answered yet. */
  IdempotencyKeyInFlight: 40904,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  KeySchemaMissing: 42201,
  ValueSchemaMissing: 42202,
  JsonConversion: 42203,
  InvalidConsumerConfig: 42204,
  InvalidSchema: 42205,
  InvalidPayload: 42206,
  Serialization: 42207,
  ProduceBatch: 42208,
  /** Wharf's own: an Idempotency-Key already used for a different request. */
  IdempotencyKeyReused: 42209,
  TooManyRequests: 429,
  Internal: 500,
  KafkaError: 50002,
  KafkaRetriable: 50003,
  ServiceUnavailable: 503,
} as const;

export const badRequest = (message: string) => new RestError(400, ErrorCode.BadRequest, message);
export const unprocessable = (message: string, code: number = ErrorCode.InvalidPayload) =>
  new RestError(422, code, message);
/**
 * kafka-rest's own BadRequestException: its mapper prefixes the HTTP reason phrase, so clients see
 * e.g. `Bad Request: data="x" is not a valid base64 string.` with error_code 400.
 */
export const badRequestException = (detail: string) =>
  new RestError(400, ErrorCode.BadRequest, `Bad Request: ${detail}`);
/** Bean-validation style failures (unknown fields, empty lists): always 422 with error_code 422. */
export const constraintViolation = (message: string) => new RestError(422, 422, message);
export const unrecognizedField = (field: string) => constraintViolation(`Unrecognized field: ${field}`);
/** Confluent's Errors.invalidPayloadException: 422 / 42206 with the "Payload error. " prefix. */
export const invalidPayload = (cause: string) =>
  new RestError(422, ErrorCode.InvalidPayload, `Payload error. ${cause}`);
export const schemaRegistryRequired = () => invalidPayload("Schema Registry must be configured when using schemas.");
export const serializationError = (cause: string) =>
  new RestError(422, ErrorCode.Serialization, `Error serializing message. ${cause}`);
/** Confluent's Errors.keySchemaMissingException / valueSchemaMissingException (42201 / 42202). */
export const keySchemaMissing = () =>
  new RestError(422, ErrorCode.KeySchemaMissing, "Request includes keys but does not include key schema");
export const valueSchemaMissing = () =>
  new RestError(422, ErrorCode.ValueSchemaMissing, "Request includes values but does not include value schema");
/** Confluent's Errors.jsonConversionException: a record that its schema does not accept (42203). */
export const jsonConversion = (cause: string) =>
  new RestError(422, ErrorCode.JsonConversion, `Conversion of JSON to Object failed: ${cause}`);
/** Confluent's Errors.invalidSchemaException (42205). */
export const invalidSchema = (detail: string) =>
  new RestError(422, ErrorCode.InvalidSchema, `Invalid schema: ${detail}`);
/**
 * Wharf's own: the Schema Registry is down, timed out or answered 5xx. REST Proxy answers 42207
 * (a client error) for these; Wharf answers a retriable 503 with 50003 so clients retry, and
 * writes nothing of the request.
 */
export const schemaRegistryUnavailable = (detail: string) =>
  new RestError(503, ErrorCode.KafkaRetriable, `Schema Registry unavailable: ${detail}`, { "Retry-After": "1" });
/**
 * A consumed record the instance's format cannot read. REST Proxy's exception mapper answers a
 * SerializationException from the deserializer with 408 / 40801 and the exception's message.
 */
export const recordDeserialization = (message: string) => new RestError(408, 40801, message);
export const produceBatchError = (message: string) => new RestError(422, ErrorCode.ProduceBatch, message);
export const topicNotFound = (topic?: string) =>
  new RestError(404, ErrorCode.TopicNotFound, topic ? `Topic ${topic} not found.` : "Topic not found.");
export const partitionNotFound = () => new RestError(404, ErrorCode.PartitionNotFound, "Partition not found.");
export const consumerInstanceNotFound = () =>
  new RestError(404, ErrorCode.ConsumerInstanceNotFound, "Consumer instance not found.");
export const routeNotFound = () => new RestError(404, ErrorCode.NotFound, "HTTP 404 Not Found");
export const unsupportedMediaType = (type: string) =>
  new RestError(415, ErrorCode.UnsupportedMediaType, `HTTP 415 Unsupported Media Type: ${type || "(none)"}`);
export const notAcceptable = () => new RestError(406, ErrorCode.NotAcceptable, "HTTP 406 Not Acceptable");
export const payloadTooLarge = (limit: number) =>
  new RestError(413, ErrorCode.PayloadTooLarge, `Request body larger than the limit of ${limit} bytes.`);
/** 401 / 40101; `challenge` becomes the WWW-Authenticate header. */
export const unauthenticated = (message: string, challenge?: string) =>
  new RestError(401, ErrorCode.Unauthenticated, message, challenge ? { "WWW-Authenticate": challenge } : {});
export const forbidden = (message: string) => new RestError(403, ErrorCode.Forbidden, message);
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new RestError(429, ErrorCode.TooManyRequests, message, { "Retry-After": String(retryAfterSeconds) });
export const serviceUnavailable = (message: string, retryAfterSeconds = 1) =>
  new RestError(503, ErrorCode.ServiceUnavailable, message, { "Retry-After": String(retryAfterSeconds) });
export const kafkaRetriable = (message: string) =>
  new RestError(503, ErrorCode.KafkaRetriable, `Kafka retriable error: ${message}`);
export const kafkaError = (message: string) => new RestError(500, ErrorCode.KafkaError, `Kafka error: ${message}`);
export const invalidIdempotencyKey = (reason: string) =>
  new RestError(400, ErrorCode.InvalidIdempotencyKey, `Invalid Idempotency-Key header: ${reason}.`);
/**
 * A retry that took over the claim of a request whose node died could not find out in time
 * which of its records are already in Kafka; it writes nothing rather than guess.
 */
export const recoveryIncomplete = (detail: string) =>
  new RestError(
    503,
    ErrorCode.KafkaRetriable,
    `Kafka retriable error: the records of an earlier attempt with this Idempotency-Key could not be looked up (${detail}); retry.`,
    { "Retry-After": "1" },
  );
/**
 * A keyed request that cannot show its claim is still its own (not renewed within its lease: the
 * node was paused or stalled, or Redis was away) writes nothing: another node may be doing the
 * request meanwhile.
 */
export const idempotencyClaimLapsed = () =>
  new RestError(
    503,
    ErrorCode.KafkaRetriable,
    "Kafka retriable error: the Idempotency-Key claim of this request could not be renewed in time; nothing was written; retry.",
    { "Retry-After": "1" },
  );
/** The claim was not confirmed by idempotency.redis.min.replicas replicas: a failover could lose it. */
export const idempotencyClaimUnreplicated = () =>
  new RestError(
    503,
    ErrorCode.KafkaRetriable,
    "Kafka retriable error: the Idempotency-Key claim was not confirmed by a Redis replica in time; nothing was written; retry.",
    { "Retry-After": "1" },
  );
/** The draft's 409: retry later, by then the first request has its answer. */
export const idempotencyKeyInFlight = (retryAfterSeconds = 1) =>
  new RestError(
    409,
    ErrorCode.IdempotencyKeyInFlight,
    "A request with this Idempotency-Key is still being processed; retry to get its answer.",
    { "Retry-After": String(retryAfterSeconds) },
  );
/** The draft's 422: a key names one request; reusing it for another is a client bug. */
export const idempotencyKeyReused = () =>
  new RestError(
    422,
    ErrorCode.IdempotencyKeyReused,
    "This Idempotency-Key was already used for a different request (method, path, content type or body).",
  );
