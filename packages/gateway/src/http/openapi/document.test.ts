import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "./document.ts";

type Json = Record<string, unknown>;
const doc = openApiDocument() as {
  paths: Record<string, Record<string, { operationId: string; parameters?: Array<{ name: string; in: string }> }>>;
  components: { schemas: Record<string, Json> };
};

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe("the OpenAPI document", () => {
  it("resolves every $ref", () => {
    const missing = refs(doc).filter((r) => !(r.replace("#/components/schemas/", "") in doc.components.schemas));
    expect(missing).toEqual([]);
  });

  it("has unique operation ids and declares every path parameter", () => {
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const [path, item] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      for (const op of Object.values(item)) {
        const declared = (op.parameters ?? [])
          .filter((p) => p.in === "path")
          .map((p) => p.name)
          .sort();
        expect(declared, `${op.operationId} ${path}`).toEqual(names);
      }
    }
  });

  it("has schemas that compile as JSON Schema 2020-12", () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      ajv.addSchema(JSON.parse(JSON.stringify(schema).replaceAll("#/components/schemas/", "urn:s:")), `urn:s:${name}`);
    }
    for (const name of Object.keys(doc.components.schemas)) expect(() => ajv.getSchema(`urn:s:${name}`)).not.toThrow();
  });

  it("documents the schema formats: content types, schema fields and their error codes", () => {
    const text = JSON.stringify(doc);
    // biome-ignore lint/suspicious/noExplicitAny: walking the document
    const paths = doc.paths as any;
    const produce = paths["/topics/{topic_name}"].post;
    for (const f of ["avro", "jsonschema", "protobuf"]) {
      expect(Object.keys(produce.requestBody.content)).toContain(`application/vnd.kafka.${f}.v2+json`);
    }
    expect(Object.keys(paths["/consumers/{group_name}/instances/{instance}/records"].get.responses)).toContain("408");
    for (const code of ["42201", "42202", "42203", "42205", "42207", "40801"]) expect(text).toContain(code);
    expect(JSON.stringify(doc.components.schemas.ProduceResponse)).toContain("schema_version");
  });
});
