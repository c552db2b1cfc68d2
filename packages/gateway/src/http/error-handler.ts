/** The one place where errors become responses: Confluent's {"error_code", "message"} body. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ErrorCode, RestError, routeNotFound } from "../errors.ts";
import type { Logger } from "../log.ts";

/**
 * Server-side failures often quote a lower layer ("connect ECONNREFUSED 10.0.3.7:8083", a broker's
 * host:port): clients get the message without the addresses of Wharf's internal network.
 */
export function redactAddresses(message: string): string {
  return message
    .replace(/\[[0-9a-fA-F:.]+\](?::\d+)?/g, "<address>")
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, "<address>")
    .replace(/\b[a-zA-Z][\w.-]*:\d{2,5}\b/g, "<address>");
}

export function errorResponse(error: RestError): Response {
  const message = error.status >= 500 ? redactAddresses(error.message) : error.message;
  return new Response(JSON.stringify({ error_code: error.errorCode, message }), {
    status: error.status,
    headers: { "content-type": "application/json", ...error.headers },
  });
}

export function createErrorHandler(log: Logger) {
  return (error: Error, c: Context): Response => {
    if (error instanceof RestError) return errorResponse(error);
    if (error instanceof HTTPException) {
      return errorResponse(new RestError(error.status, error.status, error.message || `HTTP ${error.status}`));
    }
    // The client hung up or was cut off (request timeout) while its body was read: nobody is
    // listening for an answer, and it is not a server fault worth a stack trace.
    if (error.message === "aborted" || (error as NodeJS.ErrnoException).code === "ECONNRESET") {
      log.debug("request aborted by the client", { method: c.req.method, path: c.req.path });
      return errorResponse(new RestError(400, ErrorCode.BadRequest, "Request aborted."));
    }
    // Internal details stay in the log; the client gets no stack trace or address.
    log.error("unhandled error", { method: c.req.method, path: c.req.path, error: error.stack ?? String(error) });
    return errorResponse(new RestError(500, ErrorCode.Internal, "Internal Server Error"));
  };
}

export const notFoundHandler = () => errorResponse(routeNotFound());
