/**
 * Confluent Schema Registry's REST API (the part Wharf and Confluent's clients use) over a
 * Registry. Routes only translate HTTP; errors become `{"error_code","message"}` in onError.
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { parseLevel } from "./compatibility.ts";
import { badRequest, RegistryError, schemaNotFound } from "./errors.ts";
import { SCHEMA_TYPES } from "./formats/index.ts";
import type { RequestCounter } from "./metrics.ts";
import { parseSchemaRequest, parseVersionId, type Registry } from "./registry.ts";
import type { StoredSchema, VersionRecord } from "./state.ts";

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

function reply(c: Context, body: unknown, status: ContentfulStatusCode = 200): Response {
  return c.body(JSON.stringify(body), status, { "content-type": CONTENT_TYPE });
}

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`The request body is not JSON: ${text.slice(0, 80)}`);
  }
}

const flag = (c: Context, name: string) => c.req.query(name) === "true";

/** Confluent's schema JSON: schemaType only when not AVRO, references only when there are some. */
function schemaFields(schema: Pick<StoredSchema, "schemaType" | "references">, text: string) {
  return {
    ...(schema.schemaType !== "AVRO" ? { schemaType: schema.schemaType } : {}),
    schema: text,
    ...(schema.references.length > 0 ? { references: schema.references } : {}),
  };
}

function versionBody(registry: Registry, record: VersionRecord, format: string | undefined) {
  const text = registry.rendered(registry.schemaById(record.id), format);
  return { subject: record.subject, version: record.version, id: record.id, ...schemaFields(record, text) };
}

function schemaId(raw: string): number {
  if (!/^\d+$/.test(raw)) throw schemaNotFound();
  return Number(raw);
}

export function createApp(registry: Registry, counter: RequestCounter): Hono {
  const app = new Hono();

  app.use(async (c, next) => {
    await next();
    if (c.req.path.startsWith("/_standin/")) return;
    // The route that answered: the last match that is not this middleware (method ALL).
    const route = c.req.matchedRoutes.filter((r) => r.method !== "ALL").at(-1)?.path ?? `unmatched ${c.req.path}`;
    counter.count(`${c.req.method} ${route}`);
  });

  app.onError((error, c) => {
    if (error instanceof RegistryError) {
      return reply(c, { error_code: error.errorCode, message: error.message }, error.status as ContentfulStatusCode);
    }
    return reply(c, { error_code: 50001, message: `Error in the backend data store: ${error.message}` }, 500);
  });
  app.notFound((c) => reply(c, { error_code: 404, message: "HTTP 404 Not Found" }, 404));

  app.get("/", (c) => reply(c, {}));
  app.get("/_standin/metrics", (c) => reply(c, counter.snapshot()));

  // Confluent's client (npm 1.10+) asks for a topic's associated subject before its default
  // TopicNameStrategy; the stand-in keeps no associations, so every topic has none.
  app.get("/associations/resources/:namespace/:name", (c) => reply(c, []));

  app.get("/schemas/types", (c) => reply(c, SCHEMA_TYPES));
  app.get("/schemas/ids/:id", (c) => {
    const schema = registry.schemaById(schemaId(c.req.param("id")));
    return reply(c, schemaFields(schema, registry.rendered(schema, c.req.query("format"))));
  });
  app.get("/schemas/ids/:id/schema", (c) => {
    const schema = registry.schemaById(schemaId(c.req.param("id")));
    return c.body(registry.rendered(schema, c.req.query("format")), 200, { "content-type": CONTENT_TYPE });
  });
  app.get("/schemas/ids/:id/versions", (c) => {
    const usage = registry.idUsage(schemaId(c.req.param("id")), flag(c, "deleted"));
    return reply(
      c,
      usage.map((r) => ({ subject: r.subject, version: r.version })),
    );
  });
  app.get("/schemas/ids/:id/subjects", (c) => {
    const usage = registry.idUsage(schemaId(c.req.param("id")), flag(c, "deleted"));
    return reply(c, [...new Set(usage.map((r) => r.subject))]);
  });

  app.get("/subjects", (c) => {
    const prefix = c.req.query("subjectPrefix") ?? "";
    return reply(
      c,
      registry.subjects(flag(c, "deleted")).filter((s) => s.startsWith(prefix)),
    );
  });
  app.get("/subjects/:subject/versions", (c) =>
    reply(c, registry.versions(c.req.param("subject"), flag(c, "deleted"))),
  );
  app.get("/subjects/:subject/versions/:version", (c) => {
    const record = registry.version(c.req.param("subject"), parseVersionId(c.req.param("version")), flag(c, "deleted"));
    return reply(c, versionBody(registry, record, c.req.query("format")));
  });
  app.get("/subjects/:subject/versions/:version/schema", (c) => {
    const record = registry.version(c.req.param("subject"), parseVersionId(c.req.param("version")), flag(c, "deleted"));
    const text = registry.rendered(registry.schemaById(record.id), c.req.query("format"));
    return c.body(text, 200, { "content-type": CONTENT_TYPE });
  });
  app.post("/subjects/:subject/versions", async (c) => {
    const request = parseSchemaRequest(await jsonBody(c));
    return reply(c, await registry.register(c.req.param("subject"), request));
  });
  app.post("/subjects/:subject", async (c) => {
    const request = parseSchemaRequest(await jsonBody(c));
    const record = registry.lookup(c.req.param("subject"), request, flag(c, "deleted"));
    return reply(c, versionBody(registry, record, c.req.query("format")));
  });
  app.delete("/subjects/:subject", async (c) =>
    reply(c, await registry.deleteSubject(c.req.param("subject"), flag(c, "permanent"))),
  );
  app.delete("/subjects/:subject/versions/:version", async (c) => {
    const version = parseVersionId(c.req.param("version"));
    return reply(c, await registry.deleteVersion(c.req.param("subject"), version, flag(c, "permanent")));
  });

  app.post("/compatibility/subjects/:subject/versions/:version", async (c) => {
    const version = parseVersionId(c.req.param("version"));
    const request = parseSchemaRequest(await jsonBody(c));
    const verbose = flag(c, "verbose");
    const problems = registry.testCompatibility(c.req.param("subject"), version, request, verbose);
    const body: { is_compatible: boolean; messages?: string[] } = { is_compatible: problems.length === 0 };
    if (verbose) body.messages = problems;
    return reply(c, body);
  });

  // Always READWRITE: the stand-in has no READONLY or IMPORT mode (tools ask before importing).
  app.get("/mode", (c) => reply(c, { mode: "READWRITE" }));

  app.get("/config", (c) => reply(c, { compatibilityLevel: registry.config(null, true) }));
  app.put("/config", async (c) => reply(c, await updateConfig(registry, null, await jsonBody(c))));
  app.delete("/config", async (c) => reply(c, { compatibilityLevel: await registry.deleteConfig(null) }));
  app.get("/config/:subject", (c) =>
    reply(c, { compatibilityLevel: registry.config(c.req.param("subject"), flag(c, "defaultToGlobal")) }),
  );
  app.put("/config/:subject", async (c) =>
    reply(c, await updateConfig(registry, c.req.param("subject"), await jsonBody(c))),
  );
  app.delete("/config/:subject", async (c) =>
    reply(c, { compatibilityLevel: await registry.deleteConfig(c.req.param("subject")) }),
  );

  return app;
}

async function updateConfig(registry: Registry, subject: string | null, body: unknown) {
  const level = parseLevel((body as { compatibility?: unknown } | null)?.compatibility);
  await registry.setConfig(subject, level);
  return { compatibility: level };
}
