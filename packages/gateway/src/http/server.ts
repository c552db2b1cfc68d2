/**
 * The node:http server under hono. Limits are enforced here, before hono sees the request:
 * a declared body over the limit is refused without reading it (hono's own bodyLimit has had
 * chunked-body bypasses; chunked bodies are capped by the route's reader as they stream in).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { GatewayConfig, Listener } from "../config.ts";
import { payloadTooLarge } from "../errors.ts";
import type { RequestEnv } from "./body.ts";

export interface HttpServer {
  readonly server: Server;
  listen(listener: Listener): Promise<AddressInfo>;
  /** Stops accepting, lets in-flight requests finish (up to timeoutMs), then drops the rest. */
  close(timeoutMs: number): Promise<void>;
}

export function createHttpServer(
  fetch: (request: Request, env: RequestEnv) => Response | Promise<Response>,
  http: GatewayConfig["http"],
): HttpServer {
  const handle = getRequestListener(fetch as Parameters<typeof getRequestListener>[0]);
  const server = createServer(
    {
      requestTimeout: http.requestTimeoutMs,
      headersTimeout: http.headersTimeoutMs,
      keepAliveTimeout: http.keepAliveTimeoutMs,
      maxHeaderSize: 16 * 1024,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const declared = Number(req.headers["content-length"] ?? 0);
      if (declared > http.maxBodyBytes) {
        const error = payloadTooLarge(http.maxBodyBytes);
        // The body is never read, so the connection cannot be reused.
        res.writeHead(error.status, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ error_code: error.errorCode, message: error.message }));
        return;
      }
      // HTTP/1.0 health checks (haproxy's httpchk) send no Host; the fetch adapter needs one for the URL.
      if (!req.headers.host) req.headers.host = "localhost";
      void handle(req, res);
    },
  );

  return {
    server,
    listen: (listener) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(listener.port, listener.host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
