import { describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import { createRequestCounter } from "./metrics.ts";
import { createRegistry } from "./registry.ts";
import { RegistryState } from "./state.ts";

function standin() {
  const app = createApp(createRegistry(new RegistryState(), { append: async () => {} }), createRequestCounter());
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(path, {
      method,
      headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // Plain text answers (/schema) stay text.
    }
    return { status: response.status, type: response.headers.get("content-type"), body: json };
  };
  return { call };
}

const avro = '{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}';

describe("the stand-in's HTTP answers", () => {
  it("uses Confluent's shapes: schemaType only when not AVRO, references only when present", async () => {
    const { call } = standin();
    expect(await call("POST", "/subjects/s/versions", { schema: avro })).toMatchObject({
      status: 200,
      body: { id: 1 },
    });
    const version = await call("GET", "/subjects/s/versions/latest");
    expect(version.type).toBe("application/vnd.schemaregistry.v1+json");
    expect(version.body).toEqual({ subject: "s", version: 1, id: 1, schema: avro });
    expect((await call("GET", "/schemas/ids/1")).body).toEqual({ schema: avro });
    expect((await call("GET", "/subjects/s/versions/1/schema")).body).toEqual(JSON.parse(avro));

    await call("POST", "/subjects/j/versions", { schemaType: "JSON", schema: '{"type":"string"}' });
    await call("POST", "/subjects/k/versions", {
      schemaType: "JSON",
      schema: '{"$ref":"s.json"}',
      references: [{ name: "s.json", subject: "j", version: 1 }],
    });
    expect((await call("GET", "/schemas/ids/3")).body).toEqual({
      schemaType: "JSON",
      schema: '{"$ref":"s.json"}',
      references: [{ name: "s.json", subject: "j", version: 1 }],
    });
    expect((await call("POST", "/subjects/s", { schema: avro })).body).toEqual({
      subject: "s",
      version: 1,
      id: 1,
      schema: avro,
    });
    expect((await call("GET", "/subjects?subjectPrefix=j")).body).toEqual(["j"]);
    expect((await call("GET", "/schemas/ids/1/subjects")).body).toEqual(["s"]);
  });

  it("answers errors as {error_code, message} with the HTTP status", async () => {
    const { call } = standin();
    expect(await call("POST", "/subjects/s/versions", "{not json")).toMatchObject({
      status: 400,
      body: { error_code: 400 },
    });
    expect(await call("POST", "/subjects/s/versions", { schema: "{" })).toMatchObject({
      status: 422,
      body: { error_code: 42201 },
    });
    expect(await call("GET", "/nowhere")).toMatchObject({
      status: 404,
      body: { error_code: 404, message: "HTTP 404 Not Found" },
    });
    expect(await call("GET", "/schemas/ids/abc")).toMatchObject({ status: 404, body: { error_code: 40403 } });
    expect(await call("PUT", "/config", { compatibility: "FULL" })).toMatchObject({ body: { compatibility: "FULL" } });
    expect((await call("GET", "/config")).body).toEqual({ compatibilityLevel: "FULL" });
    expect((await call("POST", "/compatibility/subjects/none/versions/latest", { schema: avro })).body).toEqual({
      is_compatible: true,
    });
    expect((await call("POST", "/compatibility/subjects/none/versions/3", { schema: avro })).body).toMatchObject({
      error_code: 40402,
    });
  });

  it("counts requests per route, leaving its own metrics out", async () => {
    const { call } = standin();
    await call("POST", "/subjects/s/versions", { schema: avro });
    await call("GET", "/subjects/s/versions/1");
    await call("GET", "/subjects/s/versions/latest");
    await call("GET", "/_standin/metrics");
    expect((await call("GET", "/_standin/metrics")).body).toEqual({
      requests: 3,
      byRoute: { "POST /subjects/:subject/versions": 1, "GET /subjects/:subject/versions/:version": 2 },
    });
  });
});
