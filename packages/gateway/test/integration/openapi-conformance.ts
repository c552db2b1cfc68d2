/**
 * Checks real responses against the OpenAPI document the gateway serves: the status must be
 * documented for the operation, the Content-Type among its media types, and a JSON body valid
 * against that response's schema (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it).
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { expect } from "vitest";
import { call, type HttpResult, lbUrl } from "./helpers.ts";

type Json = Record<string, unknown>;
interface Document {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Json }> }> }>>;
  components: { schemas: Record<string, Json> };
}

const COMPONENT = "#/components/schemas/";
const idOf = (name: string) => `urn:wharf:schema:${name}`;

/** Rewrites local component refs to absolute ids, so each schema compiles on its own. */
function absolute(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(absolute);
  if (!schema || typeof schema !== "object") return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] =
      key === "$ref" && typeof value === "string" && value.startsWith(COMPONENT)
        ? idOf(value.slice(COMPONENT.length))
        : absolute(value);
  }
  return out;
}

export interface Conformance {
  readonly document: Document;
  /** Every "METHOD /path/template" checked so far. */
  readonly visited: Set<string>;
  check(method: string, template: string, res: Pick<HttpResult, "status" | "headers" | "json" | "text">): void;
}

export async function loadConformance(base = lbUrl()): Promise<Conformance> {
  const res = await call("GET", `${base}/openapi.json`);
  expect(res.status).toBe(200);
  const document = res.json as Document;
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  for (const [name, schema] of Object.entries(document.components.schemas)) {
    ajv.addSchema({ ...(absolute(schema) as Json), $id: idOf(name) });
  }
  const compiled = new Map<string, ValidateFunction>();
  const visited = new Set<string>();

  return {
    document,
    visited,
    check(method, template, res) {
      const key = `${method.toUpperCase()} ${template}`;
      const operation = document.paths[template]?.[method.toLowerCase()];
      expect(operation, `${key} is not in the document`).toBeDefined();
      const responses = operation?.responses ?? {};
      const status = String(res.status);
      const response = responses[status] ?? responses[`${status[0]}XX`];
      expect(response, `${key} answered ${status}, which the document does not list: ${res.text}`).toBeDefined();
      visited.add(key);
      if (!response?.content) {
        expect(res.text, `${key} ${status} should have no body`).toBe("");
        return;
      }
      const type = String(res.headers["content-type"] ?? "")
        .split(";")[0]
        ?.trim()
        .toLowerCase() as string;
      const media = response.content[type];
      expect(media, `${key} ${status} answered ${type}, not among ${Object.keys(response.content)}`).toBeDefined();
      if (!type.includes("json")) return;
      const cacheKey = `${key} ${status} ${type}`;
      let validate = compiled.get(cacheKey);
      if (!validate) {
        validate = ajv.compile(absolute(media?.schema) as Json);
        compiled.set(cacheKey, validate);
      }
      const body = res.json === undefined ? JSON.parse(res.text) : res.json;
      if (!validate(body)) {
        throw new Error(
          `${cacheKey} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`,
        );
      }
    },
  };
}
