/**
 * What every v3 admin response shares: `kind`, `metadata.self` and `resource_name` (a CRN), related
 * links, and the cluster check. URLs start at `public.url` when set, else at the request's origin,
 * so links work through a load balancer.
 */
import type { Context } from "hono";
import type { GatewayConfig } from "../../../config.ts";
import { ErrorCode, RestError } from "../../../errors.ts";
import { notFound, requireCluster } from "../../../kafka/admin/index.ts";
import type { KafkaAdmin } from "../../../kafka/admin-client.ts";
import { readJsonBody } from "../../body.ts";
import { negotiate, requireContentType, V3_JSON, v3ResponseTypes } from "../../media-types.ts";

export interface V3Deps {
  config: GatewayConfig;
  admin: KafkaAdmin;
}

type Segment = string | number;

export class Links {
  readonly #base: string;
  readonly clusterId: string;

  constructor(base: string, clusterId: string) {
    this.#base = base;
    this.clusterId = clusterId;
  }

  /** `<base>/v3/clusters/<cluster>/<segments...>`, each segment escaped, empty ones skipped. */
  cluster(...segments: Segment[]): string {
    return this.url("v3", "clusters", this.clusterId, ...segments);
  }

  url(...segments: Segment[]): string {
    const path = segments
      .map(String)
      .filter((s) => s !== "")
      .map(encodeURIComponent)
      .join("/");
    return `${this.#base}/${path}`;
  }

  /** A Confluent resource name: `crn:///kafka=<cluster>/<type>=<id>/...`; a null id names the type alone. */
  crn(...pairs: Array<Segment | null>): string {
    const parts: string[] = [`kafka=${this.clusterId}`];
    for (let i = 0; i < pairs.length; i += 2) {
      const id = pairs[i + 1];
      parts.push(id === null || id === undefined ? String(pairs[i]) : `${pairs[i]}=${id}`);
    }
    return `crn:///${parts.join("/")}`;
  }
}

export const related = (url: string) => ({ related: url });

export const resource = (kind: string, self: string, resourceName?: string) => ({
  kind,
  metadata: resourceName === undefined ? { self } : { self, resource_name: resourceName },
});

export const collection = <T>(kind: string, self: string, data: T[]) => ({
  kind,
  metadata: { self, next: null },
  data,
});

/** The start of every v3 admin handler: a response type the client accepts, and a known cluster. */
export async function openV3(c: Context, { config, admin }: V3Deps): Promise<Links> {
  negotiate(c, v3ResponseTypes);
  const clusterId = await requireCluster(admin, c.req.param("clusterId") as string);
  return new Links(config.publicUrl ?? new URL(c.req.url).origin, clusterId);
}

export const v3Json = (c: Context, body: unknown, status: 200 | 201 = 200, headers: Record<string, string> = {}) =>
  c.body(JSON.stringify(body), status, { "content-type": V3_JSON, ...headers });

/** JAX-RS answers a path parameter that is not an integer with a plain 404. */
export function intParam(c: Context, name: string): number {
  const raw = c.req.param(name) ?? "";
  if (!/^-?\d{1,10}$/.test(raw) || Math.abs(Number(raw)) > 2 ** 31 - 1) throw notFound();
  return Number(raw);
}

const jsonTypes = new Set([V3_JSON]);

/**
 * A v3 request body: application/json or 415, malformed JSON 400, and undefined when empty (each
 * route answers that in REST Proxy's words).
 */
export async function readV3Body(c: Context, config: GatewayConfig): Promise<unknown> {
  requireContentType(c, jsonTypes);
  return readJsonBody(c, config.http.maxBodyBytes);
}

/** Jackson's refusal of a value of the wrong type: 400 with error_code 400. */
export const wrongType = (field: string, expected: string, value: unknown) =>
  new RestError(
    400,
    ErrorCode.BadRequest,
    `Cannot deserialize value of type \`${expected}\` from ${JSON.stringify(value)} (field ${field}).`,
  );
