/** The workload's one way to talk HTTP: every call ends in an answer or in a classified failure. */
import { Agent, request } from "undici";

export type HttpOutcome =
  | { kind: "answer"; status: number; text: string; json: unknown }
  /** `sent` is false only for a connection that was refused: the request never reached anyone. */
  | { kind: "none"; error: string; sent: boolean };

export interface HttpCall {
  method: "GET" | "POST" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Longest wait for the answer's headers and for each body chunk. */
  timeoutMs: number;
}

/** Errors that mean no byte of the request reached a server. */
const NOT_SENT = new Set(["ECONNREFUSED"]);

export interface HttpClient {
  call(spec: HttpCall): Promise<HttpOutcome>;
  close(): Promise<void>;
}

/**
 * One undici agent per workload: keep-alive connections, no automatic retry of anything (a POST
 * retried below the client would hide exactly the duplicates the checker counts).
 */
export function createHttpClient(connections: number): HttpClient {
  const agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 4000 });
  return {
    async call(spec) {
      try {
        const response = await request(spec.url, {
          method: spec.method,
          headers: spec.body === undefined ? spec.headers : { "content-type": "application/json", ...spec.headers },
          body:
            spec.body === undefined ? undefined : typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body),
          dispatcher: agent,
          headersTimeout: spec.timeoutMs,
          bodyTimeout: spec.timeoutMs,
        });
        const text = await response.body.text();
        let json: unknown;
        try {
          json = text === "" ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        return { kind: "answer", status: response.statusCode, text, json };
      } catch (error) {
        const code = (error as { code?: string }).code ?? "";
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? "";
        const message = error instanceof Error ? error.message : String(error);
        return {
          kind: "none",
          error: `${code || cause || "error"}: ${message}`,
          sent: !NOT_SENT.has(code) && !NOT_SENT.has(cause),
        };
      }
    },
    close: () => agent.close(),
  };
}
