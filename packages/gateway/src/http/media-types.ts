/** Content negotiation for REST Proxy's vendor media types. */
import type { Context } from "hono";
import { badRequest, notAcceptable, unsupportedMediaType } from "../errors.ts";
import { type EmbeddedFormat, embeddedFormats } from "../formats/embedded-format.ts";

export const V2_JSON = "application/vnd.kafka.v2+json";
/** What v2 responses may be sent as, in order of preference (Confluent's @Produces). */
export const v2ResponseTypes = [V2_JSON, "application/vnd.kafka+json", "application/json"];
/**
 * v2 produce answers only application/vnd.kafka.v2+json in REST Proxy. Wharf also serves clients
 * that accept only application/json (REST Proxy: 406), a harmless superset.
 */
export const v2ProduceResponseTypes = [V2_JSON, "application/json"];
/** v3 requests and responses are plain JSON. */
export const V3_JSON = "application/json";
export const v3ResponseTypes = [V3_JSON];
/** Plain JSON bodies of v2 requests (consumer create, subscription, offsets...). */
export const v2RequestTypes = new Set([V2_JSON, "application/vnd.kafka+json", "application/json"]);

const mediaType = (header: string | undefined) => (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

const embeddedPattern = /^application\/vnd\.kafka\.([a-z]+)\.v2\+json$/;

/**
 * The embedded format named by a v2 produce Content-Type, or a 415. No Content-Type means binary:
 * Jersey then matches every produce method and picks the one with the highest qs, which REST Proxy
 * gives to binary. application/json and application/vnd.kafka.v2+json name no format: 415.
 */
export function embeddedFormatOfContentType(c: Context): EmbeddedFormat {
  const header = c.req.header("content-type");
  if (header === undefined || header.trim() === "") return "binary";
  const type = mediaType(header);
  const format = embeddedPattern.exec(type)?.[1] as EmbeddedFormat | undefined;
  if (!format || !embeddedFormats.includes(format)) throw unsupportedMediaType(type);
  return format;
}

export function requireContentType(c: Context, accepted: ReadonlySet<string>): void {
  const type = mediaType(c.req.header("content-type"));
  if (!accepted.has(type)) throw unsupportedMediaType(type);
}

/**
 * v3 produce bodies must be application/json (REST Proxy's JSON stream reader checks nothing else);
 * a charset other than UTF-8 or ISO-8859-1 is refused as REST Proxy refuses it.
 */
export function requireJsonContentType(c: Context): void {
  const header = c.req.header("content-type") ?? "";
  const type = mediaType(header);
  if (type !== V3_JSON) throw unsupportedMediaType(type);
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(header)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "iso-8859-1") {
    throw badRequest('Unsupported charset in Content-Type header. Supports "UTF-8" and "ISO-8859-1".');
  }
}

/**
 * Picks the response type from the Accept header (with q-values); 406 when nothing offered fits.
 * Deliberate deviation: REST Proxy's 406 has no body at all; Wharf's carries the usual JSON error
 * body, so a client that logs error bodies sees why.
 */
export function negotiate(c: Context, offered: readonly string[]): string {
  const header = c.req.header("accept");
  if (!header || header.trim() === "") return offered[0] as string;
  const ranges = header
    .split(",")
    .map((part, order) => {
      const [range = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
      const q = Number(params.find((p) => p.startsWith("q="))?.slice(2) ?? 1);
      return { range, q: Number.isFinite(q) ? q : 0, order };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { range } of ranges) {
    if (range === "*/*") return offered[0] as string;
    if (range.endsWith("/*")) {
      const hit = offered.find((o) => o.startsWith(range.slice(0, -1)));
      if (hit) return hit;
      continue;
    }
    const hit = offered.find((o) => o === range);
    if (hit) return hit;
  }
  throw notAcceptable();
}
