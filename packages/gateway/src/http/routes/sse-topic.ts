/**
 * Wharf extension: a topic as Server-Sent Events, without a consumer group, for fan-out to
 * browsers. `GET /topics/{topic}/stream?partitions=0,2&from=earliest|latest|<ISO time>&format=`
 * Stateless: any node serves any stream, and a reconnect resumes from its Last-Event-ID alone.
 * Also serves the live-topic example page (deploy/examples/live-topic) at /examples/live-topic/.
 */
import { readFileSync } from "node:fs";
import { Hono } from "hono";
import type { GatewayConfig } from "../../config.ts";
import { badRequest, partitionNotFound, topicNotFound } from "../../errors.ts";
import type { ProducerPool } from "../../kafka/producer-pool.ts";
import type { StartPosition } from "../../kafka/topic-stream.ts";
import type { Metrics } from "../../metrics.ts";
import type { Schemas } from "../../schemas/index.ts";
import { negotiate } from "../media-types.ts";
import { lastEventId } from "../sse/consumer-stream.ts";
import { Cursor } from "../sse/cursor.ts";
import { EventStream, outgoingOf } from "../sse/event-stream.ts";
import type { StreamFormat } from "../sse/record-event.ts";
import type { StreamRegistry } from "../sse/streams.ts";
import type { TopicFeeds } from "../sse/topic-feeds.ts";

export interface TopicStreamRouteDeps {
  config: GatewayConfig;
  metrics: Metrics;
  producers: ProducerPool;
  streams: StreamRegistry;
  /** The node's Kafka reads for topic streams, shared where streams stand at the same place. */
  topicFeeds: TopicFeeds;
  /** Decodes the schema formats; null without a Schema Registry (they are then refused). */
  schemas?: Schemas | null;
}

const formats: ReadonlySet<string> = new Set<StreamFormat>(["binary", "json", "string"]);
const schemaFormats: ReadonlySet<string> = new Set<StreamFormat>(["avro", "jsonschema", "protobuf"]);

export function parseStartPosition(raw: string | undefined): StartPosition {
  if (raw === undefined || raw === "" || raw === "latest") return { kind: "latest" };
  if (raw === "earliest") return { kind: "earliest" };
  // An ISO 8601 time, or epoch milliseconds.
  const ms = /^\d{1,15}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms) || ms < 0) {
    throw badRequest(`Query parameter from must be earliest, latest or an ISO 8601 time, not "${raw}".`);
  }
  return { kind: "timestamp", ms };
}

export function parsePartitionList(raw: string | undefined): number[] | null {
  if (raw === undefined || raw.trim() === "") return null;
  const parts = raw.split(",").map((p) => p.trim());
  if (parts.some((p) => !/^\d{1,9}$/.test(p))) {
    throw badRequest("Query parameter partitions must be a comma-separated list of partition ids.");
  }
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

export function topicStreamRoutes({
  config,
  metrics,
  producers,
  streams,
  topicFeeds,
  schemas = null,
}: TopicStreamRouteDeps): Hono {
  const app = new Hono();

  app.get("/topics/:topic/stream", async (c) => {
    negotiate(c, ["text/event-stream"]);
    const topic = c.req.param("topic");
    const format = c.req.query("format") ?? "binary";
    if (!formats.has(format) && !(schemas !== null && schemaFormats.has(format))) {
      throw badRequest(
        schemas === null
          ? "Query parameter format must be binary, json or string (avro, jsonschema and protobuf need schema.registry.url)."
          : "Query parameter format must be binary, json, string, avro, jsonschema or protobuf.",
      );
    }
    const from = parseStartPosition(c.req.query("from"));
    const wanted = parsePartitionList(c.req.query("partitions"));
    const resume = Cursor.parse(lastEventId(c) ?? "");

    let count = await producers.partitionCount(topic);
    if (count === null) throw topicNotFound(topic);
    // Partitions may have been added since the count was cached.
    if (wanted?.some((p) => p >= (count as number))) count = (await producers.partitionCount(topic, true)) ?? 0;
    if (wanted?.some((p) => p >= (count as number))) throw partitionNotFound();
    const partitions = wanted ?? Array.from({ length: count }, (_, p) => p);

    const offsets = new Map<number, number>();
    for (const p of partitions) {
      const offset = resume.get(topic, p);
      if (offset !== undefined) offsets.set(p, offset);
    }
    streams.admit();
    const source = await topicFeeds.open({ topic, partitions, from, resume: offsets, format: format as StreamFormat });
    if (offsets.size > 0) metrics.sseResumes.inc({ kind: "topic" });
    const stream = new EventStream({
      kind: "topic",
      source,
      settings: config.stream,
      metrics,
      tracker: streams,
      outgoing: outgoingOf(c),
    });
    return stream.response();
  });

  const page = examplePage();
  if (page) {
    app.get("/examples/live-topic", (c) => c.redirect(`/examples/live-topic/${new URL(c.req.url).search}`, 301));
    app.get("/examples/live-topic/", (c) => c.body(page.html, 200, { "content-type": "text/html; charset=utf-8" }));
    app.get("/examples/live-topic/live-topic.js", (c) =>
      c.body(page.script, 200, { "content-type": "text/javascript; charset=utf-8" }),
    );
  }
  return app;
}

/** The example's two files, read once; null when the gateway runs without the deploy folder. */
function examplePage(): { html: string; script: string } | null {
  const dir = new URL("../../../../../deploy/examples/live-topic/", import.meta.url);
  try {
    return {
      html: readFileSync(new URL("index.html", dir), "utf8"),
      script: readFileSync(new URL("live-topic.js", dir), "utf8"),
    };
  } catch {
    return null;
  }
}
