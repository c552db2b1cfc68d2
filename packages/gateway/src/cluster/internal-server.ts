/** The internal listener's request handler: verifies the cluster signature, then serves the call. */
import { ErrorCode, payloadTooLarge, RestError } from "../errors.ts";
import type { RequestEnv } from "../http/body.ts";
import { errorResponse } from "../http/error-handler.ts";
import { PRINCIPAL_HEADER } from "../security/principal.ts";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from "./internal-auth.ts";

async function readAll(source: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export function createInternalHandler(
  secret: string,
  maxBodyBytes: number,
  serve: (request: Request, env: RequestEnv) => Response | Promise<Response>,
): (request: Request, env: RequestEnv) => Promise<Response> {
  return async (request, env) => {
    // GET bodies (committed offsets) only exist on node's request, not on the fetch Request.
    const source = request.body ?? (request.method === "GET" ? env?.incoming : undefined);
    const body = source ? await readAll(source, maxBodyBytes) : new Uint8Array(0);
    if (body === null) return errorResponse(payloadTooLarge(maxBodyBytes));
    const url = new URL(request.url);
    const valid = verifyRequest(
      secret,
      {
        timestamp: request.headers.get(TIMESTAMP_HEADER) ?? undefined,
        signature: request.headers.get(SIGNATURE_HEADER) ?? undefined,
        principal: request.headers.get(PRINCIPAL_HEADER) ?? undefined,
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
    // The signal goes along: a forwarding node that closes the request (its client left) ends a
    // long-poll here too, and the read gives its records back.
    return serve(
      new Request(request.url, { method: request.method, headers: request.headers, signal: request.signal }),
      {
        body,
      },
    );
  };
}
