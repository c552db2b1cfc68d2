/**
 * What a Schema Registry failure becomes for the client. REST Proxy's SchemaManager wraps every
 * registry answer into 42207 ("Error serializing message. <what>\n<registry's message>"), except
 * the registry's authorization error (40301), which stays 403. Wharf keeps that, with two
 * deliberate differences: a registry that cannot be reached, times out or answers 5xx is a
 * retriable 503 (schemaRegistryUnavailable), and the registry's own "invalid schema" (42201 from
 * the registry) is REST Proxy's 42205, as REST Proxy answers a schema it cannot parse itself.
 */
import { forbidden, invalidSchema, RestError, schemaRegistryUnavailable, serializationError } from "../errors.ts";

/** The Confluent client's RestError: the registry answered with an HTTP status and error_code. */
interface RegistryAnswer {
  status: number;
  errorCode: number;
  message: string;
}

const isRegistryAnswer = (e: unknown): e is RegistryAnswer =>
  e instanceof Error && typeof (e as { status?: unknown }).status === "number" && "errorCode" in e;

/** The registry's error_code for an invalid schema (Confluent's Errors.INVALID_SCHEMA_ERROR_CODE). */
const REGISTRY_INVALID_SCHEMA = 42201;
const REGISTRY_FORBIDDEN = 40301;

export function registryFailure(error: unknown, what: string): RestError {
  // Already a Wharf error (its class, not the Confluent client's RestError of the same name).
  if (error instanceof RestError) return error;
  if (!isRegistryAnswer(error)) {
    // No answer at all: connection refused, DNS, TLS, the request timeout.
    const detail = error instanceof Error ? error.message || error.name : String(error);
    return schemaRegistryUnavailable(`${what}: ${detail}`);
  }
  const registry = `${error.message}; error code: ${error.errorCode}`;
  if (error.status >= 500 || error.status === 408 || error.status === 429) {
    return schemaRegistryUnavailable(`${what}: ${registry}`);
  }
  if (error.errorCode === REGISTRY_FORBIDDEN) return forbidden(`${what}\n${registry}`);
  if (error.errorCode === REGISTRY_INVALID_SCHEMA) return invalidSchema(`${what}\n${registry}`);
  return serializationError(`${what}\n${registry}`);
}
