/**
 * The core of Confluent's JSON Schema compatibility, as "can a reader schema accept every document
 * a writer schema accepts". Covered (see the package README): boolean schemas, type narrowing
 * (integer widens to number), enum narrowing, required properties added without a default,
 * properties removed under a closed content model (additionalProperties: false), a content model
 * closed, string/number bounds tightened, array items, local `$ref`s. Not covered: combinators
 * (allOf/anyOf/oneOf are compared as equal-or-incompatible), dependencies, patternProperties.
 */

type Schema = boolean | Record<string, unknown>;

interface Side {
  schema: Schema;
  root: unknown;
}

const MAX_DEPTH = 64;

export function jsonSchemaProblems(reader: unknown, writer: unknown): string[] {
  const problems: string[] = [];
  compare({ schema: reader as Schema, root: reader }, { schema: writer as Schema, root: writer }, "#", problems, 0);
  return problems;
}

function problem(problems: string[], type: string, path: string): void {
  problems.push(`{errorType:"${type}", description:"at path '${path}'"}`);
}

/** Follows local `#/...` references (JSON pointers); other references are left as they are. */
function deref(side: Side, depth: number): Schema {
  let schema = side.schema;
  for (let hops = 0; hops < MAX_DEPTH - depth; hops++) {
    if (typeof schema !== "object" || typeof schema.$ref !== "string" || !schema.$ref.startsWith("#")) return schema;
    let target: unknown = side.root;
    for (const raw of schema.$ref.slice(1).split("/").filter(Boolean)) {
      const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      target = typeof target === "object" && target !== null ? (target as Record<string, unknown>)[key] : undefined;
    }
    if (target === undefined) return schema;
    schema = target as Schema;
  }
  return schema;
}

function typesOf(schema: Record<string, unknown>): Set<string> | null {
  const type = schema.type;
  if (typeof type === "string") return new Set([type]);
  if (Array.isArray(type)) return new Set(type.filter((t): t is string => typeof t === "string"));
  return null;
}

function accepts(readerTypes: Set<string>, writerType: string): boolean {
  return readerTypes.has(writerType) || (writerType === "integer" && readerTypes.has("number"));
}

function isObjectSchema(schema: Record<string, unknown>, types: Set<string> | null): boolean {
  return types ? types.has("object") : "properties" in schema || "required" in schema;
}

function compare(readerSide: Side, writerSide: Side, path: string, problems: string[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  const reader = deref(readerSide, depth);
  const writer = deref(writerSide, depth);
  const next = (r: unknown, w: unknown, at: string) =>
    compare(
      { schema: r as Schema, root: readerSide.root },
      { schema: w as Schema, root: writerSide.root },
      at,
      problems,
      depth + 1,
    );

  if (reader === true || writer === false) return;
  if (reader === false) {
    problem(problems, "SCHEMA_REMOVED", path);
    return;
  }
  if (writer === true) {
    if (Object.keys(reader).length > 0) problem(problems, "TYPE_NARROWED", path);
    return;
  }
  if (typeof reader !== "object" || typeof writer !== "object") return;

  for (const combinator of ["allOf", "anyOf", "oneOf", "not"]) {
    if (combinator in reader && JSON.stringify(reader[combinator]) !== JSON.stringify(writer[combinator])) {
      problem(problems, "COMBINED_TYPE_CHANGED", path);
    }
  }

  const readerTypes = typesOf(reader);
  const writerTypes = typesOf(writer);
  if (readerTypes) {
    if (!writerTypes) problem(problems, "TYPE_NARROWED", path);
    else if ([...writerTypes].some((t) => !accepts(readerTypes, t))) problem(problems, "TYPE_NARROWED", path);
  }

  if (Array.isArray(reader.enum)) {
    const allowed = new Set(reader.enum.map((v) => JSON.stringify(v)));
    if (!Array.isArray(writer.enum) || writer.enum.some((v) => !allowed.has(JSON.stringify(v)))) {
      problem(problems, "ENUM_ARRAY_NARROWED", path);
    }
  }
  if ("const" in reader && JSON.stringify(reader.const) !== JSON.stringify(writer.const)) {
    problem(problems, "TYPE_NARROWED", path);
  }

  compareBounds(reader, writer, path, problems);
  if (isObjectSchema(reader, readerTypes)) compareObjects(reader, writer, path, problems, next);
  if ("items" in reader && "items" in writer && !Array.isArray(reader.items) && !Array.isArray(writer.items)) {
    next(reader.items, writer.items, `${path}/items`);
  } else if ("items" in reader && !("items" in writer) && reader.items !== true) {
    problem(problems, "ITEM_ADDED_TO_OPEN_CONTENT_MODEL", `${path}/items`);
  }
}

/** A bound the reader adds or tightens rejects documents the writer allowed. */
function compareBounds(
  reader: Record<string, unknown>,
  writer: Record<string, unknown>,
  path: string,
  problems: string[],
) {
  const upper = ["maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties"];
  const lower = ["minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties"];
  for (const key of upper) {
    const r = reader[key];
    const w = writer[key];
    if (typeof r !== "number") continue;
    if (typeof w !== "number") problem(problems, `${snake(key)}_ADDED`, path);
    else if (r < w) problem(problems, `${snake(key)}_DECREASED`, path);
  }
  for (const key of lower) {
    const r = reader[key];
    const w = writer[key];
    if (typeof r !== "number") continue;
    if (typeof w !== "number") problem(problems, `${snake(key)}_ADDED`, path);
    else if (r > w) problem(problems, `${snake(key)}_INCREASED`, path);
  }
  if (typeof reader.pattern === "string" && reader.pattern !== writer.pattern) {
    problem(problems, writer.pattern === undefined ? "PATTERN_ADDED" : "PATTERN_CHANGED", path);
  }
}

function snake(key: string): string {
  return key.replace(/([A-Z])/g, "_$1").toUpperCase();
}

function compareObjects(
  reader: Record<string, unknown>,
  writer: Record<string, unknown>,
  path: string,
  problems: string[],
  next: (r: unknown, w: unknown, at: string) => void,
): void {
  const readerProps = (reader.properties ?? {}) as Record<string, unknown>;
  const writerProps = (writer.properties ?? {}) as Record<string, unknown>;
  const readerRequired = new Set(Array.isArray(reader.required) ? (reader.required as string[]) : []);
  const writerRequired = new Set(Array.isArray(writer.required) ? (writer.required as string[]) : []);
  const readerClosed = reader.additionalProperties === false;
  const writerClosed = writer.additionalProperties === false;

  for (const name of readerRequired) {
    if (writerRequired.has(name)) continue;
    const property = readerProps[name];
    const hasDefault = typeof property === "object" && property !== null && "default" in property;
    if (!hasDefault) problem(problems, "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", `${path}/properties/${name}`);
  }
  for (const [name, writerProp] of Object.entries(writerProps)) {
    const at = `${path}/properties/${name}`;
    if (name in readerProps) next(readerProps[name], writerProp, at);
    else if (readerClosed && writerProp !== false) problem(problems, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", at);
    else if (typeof reader.additionalProperties === "object") next(reader.additionalProperties, writerProp, at);
  }
  if (readerClosed && !writerClosed) problem(problems, "ADDITIONAL_PROPERTIES_REMOVED", path);
  if (typeof reader.additionalProperties === "object" && typeof writer.additionalProperties === "object") {
    next(reader.additionalProperties, writer.additionalProperties, `${path}/additionalProperties`);
  }
}
