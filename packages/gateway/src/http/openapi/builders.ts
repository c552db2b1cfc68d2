/** Small constructors that keep the OpenAPI 3.1 document (JSON Schema 2020-12) readable. */

export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const nullable = (schema: Schema): Schema =>
  "$ref" in schema ? { anyOf: [schema, { type: "null" }] } : { ...schema, type: [schema.type, "null"] };

export const string = (description?: string): Schema => ({ type: "string", ...(description ? { description } : {}) });
export const integer = (description?: string): Schema => ({
  type: "integer",
  ...(description ? { description } : {}),
});
export const int64 = (description?: string): Schema => ({ ...integer(description), format: "int64" });
export const boolean = (description?: string): Schema => ({
  type: "boolean",
  ...(description ? { description } : {}),
});
export const array = (items: Schema, description?: string): Schema => ({
  type: "array",
  items,
  ...(description ? { description } : {}),
});
export const enumOf = (values: readonly string[], description?: string): Schema => ({
  type: "string",
  enum: [...values],
  ...(description ? { description } : {}),
});

/**
 * An object whose listed properties are all required except those named in `optional`; no other
 * property is allowed, so the conformance test notices a field the document does not describe.
 */
export function object(properties: Record<string, Schema>, optional: string[] = [], description?: string): Schema {
  return {
    type: "object",
    ...(description ? { description } : {}),
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
  };
}

/** A request body object: clients may omit anything optional; unknown fields are refused (422). */
export const requestObject = (properties: Record<string, Schema>, required: string[], description?: string) => ({
  type: "object",
  ...(description ? { description } : {}),
  properties,
  required,
});

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  description?: string;
  schema: Schema;
}

export const pathParam = (name: string, schema: Schema = string(), description?: string): Parameter => ({
  name,
  in: "path",
  required: true,
  schema,
  ...(description ? { description } : {}),
});
export const queryParam = (name: string, schema: Schema, description?: string, required = false): Parameter => ({
  name,
  in: "query",
  required,
  schema,
  ...(description ? { description } : {}),
});

type Content = Record<string, { schema: Schema }>;
export interface Response {
  description: string;
  content?: Content;
  headers?: Record<string, { description: string; schema: Schema }>;
}

export const content = (schema: Schema, types: readonly string[] = ["application/json"]): Content =>
  Object.fromEntries(types.map((t) => [t, { schema }]));

export const ok = (description: string, schema: Schema, types?: readonly string[]): Response => ({
  description,
  content: content(schema, types),
});
export const noBody = (description: string): Response => ({ description });

const errorDescriptions: Record<string, string> = {
  "400": "Bad request: malformed JSON, a value of the wrong type, or a Kafka bad request (40002).",
  "401": "Not authenticated (40101).",
  "403": "Not authorized (40301).",
  "404": "Unknown cluster, topic (40401/40403), partition (40402) or other resource.",
  "408": "A consumed record the instance's schema format cannot decode (40801); the next read moves past it.",
  "406": "None of the accepted response types is offered.",
  "409": "Conflict.",
  "413": "Request body too large.",
  "415": "Unsupported request Content-Type.",
  "422":
    "The request is well-formed JSON but not valid (422, 422xx). Schema formats: key or value without a " +
    "schema (42201 / 42202), a record its schema refuses (42203), an invalid schema (42205), no Schema " +
    "Registry configured (42206 / 42207), the registry refusing a schema or not knowing an id (42207).",
  "429": "Too many requests; see Retry-After.",
  "5XX":
    "Kafka error (50002), retriable Kafka error (50003), Schema Registry unreachable or failing (503 / " +
    "50003, retriable; nothing written) or internal error.",
};

/** Confluent's `{"error_code", "message"}` body for each listed status. */
export function errors(statuses: readonly string[], types: readonly string[] = ["application/json"]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: errorDescriptions[s] ?? "Error.", content: content(ref("Error"), types) }]),
  );
}

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Content; description?: string };
  responses: Record<string, Response>;
}

export const jsonRequest = (schema: Schema, required = true, types: readonly string[] = ["application/json"]) => ({
  required,
  content: content(schema, types),
});
