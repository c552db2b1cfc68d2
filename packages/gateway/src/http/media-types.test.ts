import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createErrorHandler } from "./error-handler.ts";
import {
  embeddedFormatOfContentType,
  negotiate,
  requireJsonContentType,
  V2_JSON,
  v2ProduceResponseTypes,
  v3ResponseTypes,
} from "./media-types.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A tiny app that answers what each helper decided, or the error it threw. */
function app() {
  const a = new Hono();
  a.post("/format", (c) => c.text(embeddedFormatOfContentType(c)));
  a.post("/v2", (c) => c.text(negotiate(c, v2ProduceResponseTypes)));
  a.post("/v3", (c) => {
    requireJsonContentType(c);
    return c.text(negotiate(c, v3ResponseTypes));
  });
  // biome-ignore lint/suspicious/noExplicitAny: the logger's shape is irrelevant here
  a.onError(createErrorHandler(silent as any));
  return a;
}

async function ask(path: string, headers: Record<string, string>) {
  const res = await app().request(path, { method: "POST", headers, body: "{}" });
  const text = await res.text();
  return { status: res.status, text, json: res.status >= 400 ? JSON.parse(text) : undefined };
}

describe("embeddedFormatOfContentType (v2 produce)", () => {
  it.each([
    ["application/vnd.kafka.binary.v2+json", "binary"],
    ["application/vnd.kafka.json.v2+json", "json"],
    ["application/vnd.kafka.avro.v2+json", "avro"],
    ["application/vnd.kafka.jsonschema.v2+json", "jsonschema"],
    ["application/vnd.kafka.protobuf.v2+json", "protobuf"],
    ["Application/VND.Kafka.JSON.v2+JSON; charset=utf-8", "json"],
  ])("reads %s as %s", async (type, format) => {
    expect(await ask("/format", { "content-type": type })).toMatchObject({ status: 200, text: format });
  });

  it("takes a request without Content-Type as binary, as Jersey picks REST Proxy's binary method", async () => {
    const res = await app().request("/format", { method: "POST", body: new Uint8Array([0x7b, 0x7d]) });
    expect(await res.text()).toBe("binary");
  });

  it.each([
    "application/json",
    "application/vnd.kafka.v2+json",
    "application/octet-stream",
    "text/plain",
    "application/vnd.kafka.binary.v1+json",
    "application/vnd.kafka.xml.v2+json",
  ])("refuses %s with 415", async (type) => {
    const res = await ask("/format", { "content-type": type });
    expect(res.status).toBe(415);
    expect(res.json.error_code).toBe(415);
  });
});

describe("negotiate (v2 produce responses)", () => {
  it.each([
    [undefined, V2_JSON],
    ["*/*", V2_JSON],
    ["application/*", V2_JSON],
    [V2_JSON, V2_JSON],
    ["application/vnd.kafka.v2+json, application/vnd.kafka+json, application/json", V2_JSON],
    ["application/json", "application/json"],
    ["application/json;q=0.5, application/vnd.kafka.v2+json;q=0.4", "application/json"],
    ["text/html, application/vnd.kafka.v2+json;q=0.1", V2_JSON],
    ["application/json;q=0, */*", V2_JSON],
  ])("Accept %s gives %s", async (accept, type) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (accept !== undefined) headers.accept = accept;
    expect(await ask("/v2", headers)).toMatchObject({ status: 200, text: type });
  });

  it.each(["text/html", "application/vnd.kafka+json", "application/xml, text/*", "application/json;q=0"])(
    "answers Accept %s with 406 and a JSON body (deliberate: REST Proxy sends none)",
    async (accept) => {
      const res = await ask("/v2", { accept });
      expect(res.status).toBe(406);
      expect(res.json).toEqual({ error_code: 406, message: "HTTP 406 Not Acceptable" });
    },
  );
});

describe("requireJsonContentType (v3 produce)", () => {
  it.each(["application/json", "application/json; charset=UTF-8", 'application/json;charset="iso-8859-1"'])(
    "accepts %s",
    async (type) => {
      expect(await ask("/v3", { "content-type": type })).toMatchObject({ status: 200, text: "application/json" });
    },
  );

  it.each([undefined, "text/plain", "application/vnd.kafka.binary.v2+json", "application/x-www-form-urlencoded"])(
    "refuses Content-Type %s with 415",
    async (type) => {
      const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
      const res = await app().request("/v3", { method: "POST", headers, body: new Uint8Array([0x7b, 0x7d]) });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error_code: number }).error_code).toBe(415);
    },
  );

  it("refuses a charset other than UTF-8 or ISO-8859-1 with 400, as REST Proxy does", async () => {
    const res = await ask("/v3", { "content-type": "application/json; charset=utf-16" });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error_code: 400,
      message: 'Unsupported charset in Content-Type header. Supports "UTF-8" and "ISO-8859-1".',
    });
  });

  it("answers an Accept without application/json with 406", async () => {
    const res = await ask("/v3", { "content-type": "application/json", accept: V2_JSON });
    expect(res.status).toBe(406);
  });
});
