/**
 * The node:http server under hono. Limits are enforced here, before hono sees the request:
 * a declared body over the limit is refused without reading it (hono's own bodyLimit has had
 * chunked-body bypasses; chunked bodies are capped by the route's reader as they stream in).
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import type { GatewayConfig, Listener } from "../config.ts";
import { payloadTooLarge } from "../errors.ts";
import { type TlsSettings, tlsServerOptions } from "../security/tls.ts";
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
  tls: TlsSettings | null = null,
): HttpServer {
  const handle = getRequestListener(fetch as Parameters<typeof getRequestListener>[0]);
  const options: ServerOptions = {
    requestTimeout: http.requestTimeoutMs,
    headersTimeout: http.headersTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    maxHeaderSize: http.maxHeaderBytes ?? 16 * 1024,
    // Node checks the two timeouts above only this often (30 s by default): a slowloris client
    // would hold its socket that much longer than headersTimeout says.
    connectionsCheckingInterval: Math.min(1000, http.headersTimeoutMs),
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
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
  };
  const server: Server = tls
    ? // A TLS handshake that never completes is cut off as early as headers that never arrive.
      createHttpsServer({ ...options, ...tlsServerOptions(tls), handshakeTimeout: http.headersTimeoutMs }, listener)
    : createServer(options, listener);
  server.on("clientError", answerClientError);

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

/**
 * Node's own answer to a request it cannot parse (headers over maxHeaderSize, bad framing, a
 * request that timed out) has no body; Wharf's carries the usual {"error_code","message"}.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request Header Fields Too Large", "Request headers are larger than the limit."]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "The request was not received in time."]
        : [400, "Bad Request", "Malformed HTTP request."];
  const body = JSON.stringify({ error_code: status, message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
