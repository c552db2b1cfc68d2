/** Content negotiation for REST Proxy's vendor media types. */
import type { Context } from "hono";
import { notAcceptable, unsupportedMediaType } from "../errors.ts";
import { type EmbeddedFormat, embeddedFormats } from "../formats/embedded-format.ts";

export const V2_JSON = "application/vnd.kafka.v2+json";
/** What v2 responses may be sent as, in order of preference (Confluent's @Produces). */
export const v2ResponseTypes = [V2_JSON, "application/vnd.kafka+json", "application/json"];
/** Plain JSON bodies of v2 requests (consumer create, subscription, offsets...). */
export const v2RequestTypes = new Set([V2_JSON, "application/vnd.kafka+json", "application/json"]);

const mediaType = (header: string | undefined) => (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

const embeddedPattern = /^application\/vnd\.kafka\.([a-z]+)\.v2\+json$/;

/** The embedded format named by a v2 produce Content-Type, or a 415. */
export function embeddedFormatOfContentType(c: Context): EmbeddedFormat {
  const type = mediaType(c.req.header("content-type"));
  const format = embeddedPattern.exec(type)?.[1] as EmbeddedFormat | undefined;
  if (!format || !embeddedFormats.includes(format)) throw unsupportedMediaType(type);
  return format;
}

export function requireContentType(c: Context, accepted: ReadonlySet<string>): void {
  const type = mediaType(c.req.header("content-type"));
  if (!accepted.has(type)) throw unsupportedMediaType(type);
}

/** Picks the response type from the Accept header (with q-values); 406 when nothing offered fits. */
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
