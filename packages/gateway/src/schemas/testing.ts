/**
 * Unit-test helper: a tiny in-process HTTP server answering the part of Confluent's Schema
 * Registry API the gateway's client calls, with Confluent's shapes and error codes. The stack's
 * real stand-in lives in deploy/stack/schema-registry; this one only fakes the boundary.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

interface Stored {
  id: number;
  schema: string;
  schemaType: string;
  references: unknown[];
}

export interface FakeRegistry {
  url: string;
  /** Requests received, by "METHOD path" without the query. */
  requests: string[];
  /** The Authorization header of each request received (null when absent). */
  authorizations: Array<string | null>;
  /** Registers a schema directly; returns its id. */
  register(subject: string, schema: string, schemaType?: string, references?: unknown[]): number;
  /** Makes every request fail: a status answered, or "down" (connection destroyed). */
  fail(mode: number | "down" | null): void;
  /** Refuses registrations under a subject with Confluent's 409. */
  refuseNew(subject: string): void;
  close(): Promise<void>;
}

const body = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let text = "";
    req.on("data", (c) => {
      text += c;
    });
    req.on("end", () => resolve(text));
  });

/** TLS for the fake: its certificate and key, and a CA that client certificates must chain to. */
export interface FakeTls {
  cert: string;
  key: string;
  clientCa?: string;
}

export async function startFakeRegistry(tls?: FakeTls): Promise<FakeRegistry> {
  const byId = new Map<number, Stored>();
  const subjects = new Map<string, number[]>();
  const refused = new Set<string>();
  const requests: string[] = [];
  const authorizations: Array<string | null> = [];
  let failure: number | "down" | null = null;

  const idOf = (schema: string, schemaType: string, references: unknown[]) => {
    for (const s of byId.values()) if (s.schema === schema && s.schemaType === schemaType) return s.id;
    const id = byId.size + 1;
    byId.set(id, { id, schema, schemaType, references });
    return id;
  };
  const register = (subject: string, schema: string, schemaType = "AVRO", references: unknown[] = []) => {
    const id = idOf(schema, schemaType, references);
    const versions = subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    subjects.set(subject, versions);
    return id;
  };
  const describe = (subject: string, version: number) => {
    const s = byId.get((subjects.get(subject) as number[])[version - 1] as number) as Stored;
    return {
      subject,
      id: s.id,
      version,
      schema: s.schema,
      ...(s.schemaType === "AVRO" ? {} : { schemaType: s.schemaType }),
    };
  };

  const handler: RequestListener = async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(`${req.method} ${url.pathname}`);
    authorizations.push(req.headers.authorization ?? null);
    const text = await body(req);
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/vnd.schemaregistry.v1+json" });
      res.end(JSON.stringify(payload));
    };
    if (failure === "down") return req.socket.destroy();
    if (failure !== null) return send(failure, { error_code: failure * 100 + 1, message: "Store error" });
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const input = text ? (JSON.parse(text) as { schema: string; schemaType?: string; references?: unknown[] }) : null;
    const type = (input?.schemaType ?? "AVRO").toUpperCase();

    if (parts[0] === "schemas" && parts[1] === "ids" && req.method === "GET") {
      const s = byId.get(Number(parts[2]));
      if (!s) return send(404, { error_code: 40403, message: "Schema not found" });
      return send(200, {
        schema: s.schema,
        ...(s.schemaType === "AVRO" ? {} : { schemaType: s.schemaType }),
        references: s.references,
      });
    }
    if (parts[0] === "subjects" && parts[1] !== undefined) {
      const subject = parts[1];
      const versions = subjects.get(subject);
      if (parts.length === 3 && parts[2] === "versions" && req.method === "POST" && input) {
        if (input.schema.includes("INVALID")) return send(422, { error_code: 42201, message: "Invalid schema" });
        if (refused.has(subject)) {
          return send(409, {
            error_code: 409,
            message: `Schema being registered is incompatible with an earlier schema for subject "${subject}"`,
          });
        }
        return send(200, { id: register(subject, input.schema, type, input.references ?? []) });
      }
      if (parts.length === 2 && req.method === "POST" && input) {
        if (!versions) return send(404, { error_code: 40401, message: `Subject '${subject}' not found.` });
        const index = versions.findIndex((id) => {
          const s = byId.get(id) as Stored;
          return s.schema === input.schema && s.schemaType === type;
        });
        if (index < 0) return send(404, { error_code: 40403, message: "Schema not found" });
        return send(200, describe(subject, index + 1));
      }
      if (parts.length === 4 && parts[2] === "versions" && req.method === "GET") {
        if (!versions) return send(404, { error_code: 40401, message: `Subject '${subject}' not found.` });
        const version = parts[3] === "latest" ? versions.length : Number(parts[3]);
        if (!(version >= 1 && version <= versions.length)) {
          return send(404, { error_code: 40402, message: `Version ${parts[3]} not found.` });
        }
        return send(200, describe(subject, version));
      }
    }
    send(404, { error_code: 404, message: "HTTP 404 Not Found" });
  };
  const server: Server = tls
    ? createHttpsServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        },
        handler,
      )
    : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    authorizations,
    register,
    fail(mode) {
      failure = mode;
    },
    refuseNew(subject) {
      refused.add(subject);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
