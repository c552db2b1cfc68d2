/** Helpers for produce tests: v2/v3 calls, a streaming v3 client, and checks that Kafka holds nothing extra. */
import { request as httpRequest } from "node:http";
import { expect } from "vitest";
import { call, type HttpResult, lbUrl, readTopic, V2, V2_BINARY, V2_JSON_FORMAT } from "./helpers.ts";

export { createTopic, readTopic } from "./helpers.ts";

/** REST Proxy echoes the cluster id of a v3 produce path without checking it; so does Wharf. */
export const CLUSTER = "wharf-test-cluster";

export const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");

export function produceV2(
  topic: string,
  body: unknown,
  options: {
    format?: "binary" | "json";
    partition?: number | string;
    base?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpResult> {
  const path = options.partition === undefined ? "" : `/partitions/${options.partition}`;
  return call("POST", `${options.base ?? lbUrl()}/topics/${topic}${path}`, {
    headers: {
      "content-type": options.format === "json" ? V2_JSON_FORMAT : V2_BINARY,
      accept: V2,
      ...options.headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function produceV3(
  topic: string,
  body: unknown,
  options: { batch?: boolean; base?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const action = options.batch ? "records:batch" : "records";
  return call("POST", `${options.base ?? lbUrl()}/v3/clusters/${CLUSTER}/topics/${topic}/${action}`, {
    headers: { "content-type": "application/json", ...options.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The reports of a streaming v3 response: one JSON object per `\r\n`-terminated line. */
export function reportLines(text: string): Array<Record<string, unknown>> {
  expect(text === "" || text.endsWith("\r\n"), `reports end with \\r\\n: ${JSON.stringify(text.slice(-40))}`).toBe(
    true,
  );
  return text
    .split("\r\n")
    .slice(0, -1)
    .map((line) => JSON.parse(line));
}

/**
 * A chunked v3 streaming request over node:http: the test writes records when it likes and reads
 * each report as it arrives, while the request is still open.
 */
export function openStream(topic: string, base = lbUrl()) {
  const url = new URL(`${base}/v3/clusters/${CLUSTER}/topics/${topic}/records`);
  const req = httpRequest(url, {
    method: "POST",
    headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
  });
  let buffer = "";
  const lines: string[] = [];
  let waiting: (() => void) | null = null;
  let ended = false;
  const response = new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let at = buffer.indexOf("\r\n");
        while (at >= 0) {
          lines.push(buffer.slice(0, at));
          buffer = buffer.slice(at + 2);
          at = buffer.indexOf("\r\n");
        }
        waiting?.();
      });
      res.on("end", () => {
        ended = true;
        waiting?.();
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
  });
  return {
    response,
    write: (text: string) =>
      new Promise<void>((resolve, reject) => req.write(text, (e) => (e ? reject(e) : resolve()))),
    end: () => new Promise<void>((resolve) => req.end(() => resolve())),
    /** The next report; fails after timeoutMs. */
    async next(timeoutMs = 10_000): Promise<Record<string, unknown>> {
      const deadline = Date.now() + timeoutMs;
      while (lines.length === 0) {
        if (ended) throw new Error("stream ended");
        if (Date.now() > deadline) throw new Error("no report in time");
        await new Promise<void>((resolve) => {
          waiting = resolve;
          setTimeout(resolve, 50);
        });
        waiting = null;
      }
      return JSON.parse(lines.shift() as string);
    },
    /** Resolves once the response ended, with the reports not read yet. */
    async rest(timeoutMs = 10_000): Promise<Array<Record<string, unknown>>> {
      const deadline = Date.now() + timeoutMs;
      while (!ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(ended, "response ended").toBe(true);
      expect(buffer, "nothing after the last \\r\\n").toBe("");
      return lines.splice(0).map((l) => JSON.parse(l));
    },
  };
}

/**
 * Proves that the requests before it wrote nothing to a one-partition topic, and that the gateway
 * still serves: a v2 record produced now must land at offset `expectedOffset` and be the only
 * record after the ones the test wrote itself.
 */
export async function expectNothingWritten(topic: string, expectedOffset = 0, base = lbUrl()): Promise<void> {
  const sentinel = `sentinel-${Date.now()}`;
  const res = await produceV2(topic, { records: [{ value: b64(sentinel) }] }, { base });
  expect(res.status, res.text).toBe(200);
  expect(res.json.offsets).toEqual([{ partition: 0, offset: expectedOffset, error_code: null, error: null }]);
  const records = await readTopic(topic, expectedOffset + 1, 10_000);
  expect(records).toHaveLength(expectedOffset + 1);
  expect(records.at(-1)?.value?.toString()).toBe(sentinel);
}

/**
 * Declares a Content-Length but sends only the headers, and returns the answer: a gateway that
 * refuses on the declared size answers without reading; one that waited for the body would time out.
 */
export function sendDeclared(
  url: string,
  headers: Record<string, string>,
  declaredBytes: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: "POST",
      headers: { ...headers, "content-length": String(declaredBytes) },
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.flushHeaders();
  });
}
