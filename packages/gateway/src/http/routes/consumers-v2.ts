/**
 * REST Proxy v2 consumers. Any node accepts any request: an instance owned elsewhere is served
 * by forwarding to its owner, and one whose owner died is adopted here (see cluster/locator.ts).
 */
import { randomUUID } from "node:crypto";
import { type Context, Hono } from "hono";
import type { ConsumerHost } from "../../cluster/consumer-host.ts";
import { type Forwarder, pickForwardedHeaders } from "../../cluster/forwarder.ts";
import type { Locator } from "../../cluster/locator.ts";
import type { GatewayConfig } from "../../config.ts";
import { ErrorCode, partitionNotFound, RestError, unprocessable } from "../../errors.ts";
import { decodeEmbedded } from "../../formats/embedded-format.ts";
import type { ConsumedMessage, ConsumerInstance } from "../../kafka/consumer-instance.ts";
import type { Metrics } from "../../metrics.ts";
import type { Schemas } from "../../schemas/index.ts";
import { checkInstanceOwner } from "../../security/authorization.ts";
import { encodePrincipal, principalOf } from "../../security/principal.ts";
import { readBodyBytes } from "../body.ts";
import { negotiate, requireContentType, V2_JSON } from "../media-types.ts";
import { parseIntegerQuery } from "../params.ts";
import { consumerEventStream } from "../sse/consumer-stream.ts";
import { guardEventStreamSocket, wantsEventStream } from "../sse/event-stream.ts";
import type { StreamRegistry } from "../sse/streams.ts";
import { renderBinaryRecords } from "./binary-records.ts";
import { keyOf, schemaRecordReader } from "./consume-schema.ts";
import {
  parseCreateRequest,
  parseOffsets,
  parsePartitions,
  parseSubscription,
  parseTimestamps,
} from "./consumer-requests.ts";

export interface ConsumerRouteDeps {
  config: GatewayConfig;
  metrics: Metrics;
  host: ConsumerHost;
  locator: Locator;
  /** Null on the internal listener: a forwarded request is never forwarded again. */
  forwarder: Forwarder | null;
  streams: StreamRegistry;
  /** Schema formats (avro, jsonschema, protobuf); null without a Schema Registry. */
  schemas?: Schemas | null;
}

type Env = { Variables: { instance: ConsumerInstance; body: Buffer } };

const vendorType = (format: string) => `application/vnd.kafka.${format}.v2+json`;
/** Response types of consumer routes other than records (REST Proxy's class-level @Produces, plus plain JSON). */
const consumerResponseTypes = [
  V2_JSON,
  ...["binary", "json", "avro", "jsonschema", "protobuf"].map(vendorType),
  "application/json",
];
const requestTypes = new Set([...consumerResponseTypes, "application/octet-stream", ""]);

/** The body, parsed; null when there is none (some routes treat that specially). */
function jsonBody(c: Context<Env>): unknown {
  const body = c.get("body");
  if (body.length === 0) return null;
  requireContentType(c, requestTypes);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new RestError(400, ErrorCode.BadRequest, `Malformed JSON: ${(error as Error).message}`);
  }
}

function requiredBody(c: Context<Env>): unknown {
  const body = jsonBody(c);
  if (body === null) throw new RestError(422, 422, "The request body must not be null");
  return body;
}

export function consumerRoutes({
  config,
  metrics,
  host,
  locator,
  forwarder,
  streams,
  schemas = null,
}: ConsumerRouteDeps): Hono<Env> {
  const app = new Hono<Env>();
  const reply = (c: Context, body: unknown, status: 200 = 200) =>
    c.body(JSON.stringify(body), status, { "content-type": negotiate(c, consumerResponseTypes) });
  const noContent = (c: Context) => {
    negotiate(c, consumerResponseTypes);
    return c.body(null, 204);
  };

  app.post("/consumers/:group", async (c) => {
    const group = c.req.param("group");
    const raw = await readBodyBytes(c, config.http.maxBodyBytes);
    if (raw.length > 0) requireContentType(c, requestTypes);
    let body: unknown = null;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch (error) {
        throw new RestError(400, ErrorCode.BadRequest, `Malformed JSON: ${(error as Error).message}`);
      }
    }
    const settings = {
      ...parseCreateRequest(body, group, config, () => `rest-consumer-${config.id}-${randomUUID()}`),
      principal: principalOf(c)?.name ?? null,
    };
    const responseType = negotiate(c, consumerResponseTypes);
    await host.create(settings);
    const base = config.publicUrl ?? new URL(c.req.url).origin;
    const baseUri = `${base}/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(settings.name)}`;
    return c.body(JSON.stringify({ instance_id: settings.name, base_uri: baseUri }), 200, {
      "content-type": responseType,
    });
  });

  // Every instance route: find the owner, forward there if it is another node, else serve here.
  const locate = async (c: Context<Env>, next: () => Promise<void>) => {
    const body = await readBodyBytes(c, config.http.maxBodyBytes);
    const location = await locator.locate(
      c.req.param("group") as string,
      c.req.param("name") as string,
      forwarder !== null,
    );
    if ("remote" in location) {
      const url = new URL(c.req.url);
      const group = c.req.param("group") as string;
      const name = c.req.param("name") as string;
      try {
        const response = await (forwarder as Forwarder).forward(location.remote, {
          method: c.req.method,
          pathAndQuery: url.pathname + url.search,
          headers: pickForwardedHeaders(c.req.raw.headers),
          body,
          principal: encodePrincipal(principalOf(c)),
          // A client that leaves closes the request to the owner too, so the owner's read gives
          // its records back instead of answering into the void (ConsumerInstance.read).
          signal: c.req.raw.signal,
        });
        // The owner moved or gave the instance up: look it up afresh next time.
        if (response.status === 503 || response.status === 404) locator.forget(group, name);
        return response;
      } catch (error) {
        if (!c.req.raw.signal.aborted) locator.forget(group, name);
        throw error;
      }
    }
    // Here, or on the owner after forwarding: only the creating principal may use an instance.
    checkInstanceOwner(location.local.settings.principal, principalOf(c));
    location.local.touch();
    c.set("instance", location.local);
    c.set("body", body);
    await next();
  };
  // Event streams, served here or passed through from the owner, must not outlive a dead reader.
  app.use("/consumers/:group/instances/:name/records", async (c, next) => {
    await next();
    guardEventStreamSocket(c, config.stream);
  });
  app.use("/consumers/:group/instances/:name", locate);
  app.use("/consumers/:group/instances/:name/*", locate);

  app.delete("/consumers/:group/instances/:name", async (c) => {
    const { group, name } = c.get("instance").settings;
    await host.delete(group, name);
    return noContent(c);
  });

  app.post("/consumers/:group/instances/:name/subscription", async (c) => {
    const instance = c.get("instance");
    const subscription = parseSubscription(requiredBody(c));
    if (subscription) {
      await instance.subscribe(subscription);
      await host.saveSubscription(instance);
    }
    return noContent(c);
  });
  app.get("/consumers/:group/instances/:name/subscription", (c) =>
    reply(c, { topics: c.get("instance").subscribedTopics() }),
  );
  app.delete("/consumers/:group/instances/:name/subscription", async (c) => {
    const instance = c.get("instance");
    await instance.unsubscribe();
    await host.saveSubscription(instance);
    return noContent(c);
  });

  app.post("/consumers/:group/instances/:name/assignments", async (c) => {
    const instance = c.get("instance");
    await instance.assign(parsePartitions(requiredBody(c)));
    await host.saveSubscription(instance);
    return noContent(c);
  });
  app.get("/consumers/:group/instances/:name/assignments", (c) =>
    reply(c, { partitions: c.get("instance").assignments() }),
  );

  app.post("/consumers/:group/instances/:name/positions", async (c) => {
    const body = requiredBody(c);
    const offsets = parseOffsets(body, false);
    const timestamps = parseTimestamps(body);
    const instance = c.get("instance");
    if (offsets.length > 0) await instance.seek(offsets);
    if (timestamps.length > 0) await instance.seekToTimestamps(timestamps);
    return noContent(c);
  });
  app.post("/consumers/:group/instances/:name/positions/beginning", async (c) => {
    await c.get("instance").seekToBeginning(parsePartitions(requiredBody(c)));
    return noContent(c);
  });
  app.post("/consumers/:group/instances/:name/positions/end", async (c) => {
    await c.get("instance").seekToEnd(parsePartitions(requiredBody(c)));
    return noContent(c);
  });

  app.get("/consumers/:group/instances/:name/records", async (c) => {
    const instance = c.get("instance");
    if (wantsEventStream(c))
      return consumerEventStream(c, instance, { settings: config.stream, metrics, streams, schemas });
    const { format } = instance.settings;
    const accepted = negotiate(c, [
      vendorType(format),
      V2_JSON,
      ...["binary", "json", "avro", "jsonschema", "protobuf"].map(vendorType),
    ]);
    if (accepted !== V2_JSON && accepted !== vendorType(format)) {
      throw new RestError(
        406,
        ErrorCode.ConsumerFormatMismatch,
        "The requested embedded data format does not match the deserializer for this consumer instance",
      );
    }
    const instanceWait = instance.settings.requestTimeoutMs ?? config.consumer.requestTimeoutMs;
    const timeout = parseIntegerQuery(c.req.query("timeout"), "timeout", -1, Number.MAX_SAFE_INTEGER);
    const maxBytes = parseIntegerQuery(c.req.query("max_bytes"), "max_bytes", -1, Number.MAX_SAFE_INTEGER);
    // As in REST Proxy, `timeout` can only shorten the instance's wait.
    const wait = timeout !== null && timeout > 0 ? Math.min(timeout, instanceWait) : instanceWait;
    const cap =
      maxBytes !== null && maxBytes > 0
        ? Math.min(maxBytes, config.consumer.maxResponseBytes)
        : config.consumer.maxResponseBytes;
    const withMetadata = c.req.query("include_metadata") === "true";
    const gone = c.req.raw.signal;
    if (format !== "binary" && format !== "json") {
      if (!schemas) throw consumerFormatUnavailable(format);
      const { admit, records, failure } = schemaRecordReader(schemas, format, (record, m) =>
        withRecordMetadata(record, m, withMetadata),
      );
      const messages = await instance.read(wait, cap, instance.settings.fetchMinBytes, gone, admit);
      if (gone.aborted) metrics.consumerReadsAbandoned.inc();
      metrics.recordsConsumed.inc(messages.length);
      if (failure.error) throw failure.error;
      return c.body(JSON.stringify(records), 200, { "content-type": accepted });
    }
    const messages = await instance.read(wait, cap, instance.settings.fetchMinBytes, gone);
    if (gone.aborted) metrics.consumerReadsAbandoned.inc();
    metrics.recordsConsumed.inc(messages.length);
    if (format === "binary") {
      return c.body(renderBinaryRecords(messages, withMetadata), 200, { "content-type": accepted });
    }
    const records = messages.map((m) => toRecord(m, format, withMetadata));
    return c.body(JSON.stringify(records), 200, { "content-type": accepted });
  });

  app.post("/consumers/:group/instances/:name/offsets", async (c) => {
    const body = jsonBody(c);
    // REST Proxy's convention: the client names the last record it processed; Kafka stores the next.
    const offsets = body === null ? null : parseOffsets(body, true).map((o) => ({ ...o, offset: o.offset + 1 }));
    await c.get("instance").commit(offsets);
    return reply(c, []);
  });
  app.get("/consumers/:group/instances/:name/offsets", async (c) => {
    const body = jsonBody(c);
    // REST Proxy answers a committed-offsets request without a body with 40402.
    if (body === null) throw partitionNotFound();
    return reply(c, { offsets: await c.get("instance").committed(parsePartitions(body)) });
  });

  return app;
}

/** An instance of a schema format on a node without a registry (adopted from a node with one). */
const consumerFormatUnavailable = (format: string) =>
  unprocessable(`Embedded format "${format}" needs a Schema Registry: set schema.registry.url.`);

function toRecord(m: ConsumedMessage, format: "binary" | "json", withMetadata: boolean) {
  const record: Record<string, unknown> = {
    topic: m.topic,
    key: decodeEmbedded(format, keyOf(m)),
    value: decodeEmbedded(format, m.value),
    partition: m.partition,
    offset: m.offset,
  };
  return withRecordMetadata(record, m, withMetadata);
}

function withRecordMetadata(record: Record<string, unknown>, m: ConsumedMessage, withMetadata: boolean) {
  if (withMetadata) {
    // Wharf extension: REST Proxy v2 has no way to see timestamps or headers.
    record.timestamp = m.timestamp ?? null;
    record.headers = (m.headers ?? []).flatMap((h) =>
      Object.entries(h).map(([name, value]) => ({ name, value: Buffer.from(value).toString("base64") })),
    );
  }
  return record;
}
