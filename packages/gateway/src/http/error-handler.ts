/** The one place where errors become responses: Confluent's {"error_code", "message"} body. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ErrorCode, RestError, routeNotFound } from "../errors.ts";
import type { Logger } from "../log.ts";

export function errorResponse(error: RestError): Response {
  return new Response(JSON.stringify({ error_code: error.errorCode, message: error.message }), {
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
    // Internal details stay in the log; the client gets no stack trace or address.
    log.error("unhandled error", { method: c.req.method, path: c.req.path, error: error.stack ?? String(error) });
    return errorResponse(new RestError(500, ErrorCode.Internal, "Internal Server Error"));
  };
}

export const notFoundHandler = () => errorResponse(routeNotFound());
