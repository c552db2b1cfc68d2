/** The internal listener's request handler: verifies the cluster signature, then serves the call. */
import { ErrorCode, payloadTooLarge, RestError } from "../errors.ts";
import { errorResponse } from "../http/error-handler.ts";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from "./internal-auth.ts";

export function createInternalHandler(
  secret: string,
  maxBodyBytes: number,
  serve: (request: Request) => Response | Promise<Response>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length > maxBodyBytes) return errorResponse(payloadTooLarge(maxBodyBytes));
    const url = new URL(request.url);
    const valid = verifyRequest(
      secret,
      {
        timestamp: request.headers.get(TIMESTAMP_HEADER) ?? undefined,
        signature: request.headers.get(SIGNATURE_HEADER) ?? undefined,
      },
      request.method,
      url.pathname + url.search,
      body,
    );
    if (!valid) {
      return errorResponse(
        new RestError(401, ErrorCode.Unauthenticated, "Internal request is not signed with the cluster secret."),
      );
    }
    return serve(
      new Request(request.url, {
        method: request.method,
        headers: request.headers,
        body: body.length > 0 ? body : undefined,
      }),
    );
  };
}
