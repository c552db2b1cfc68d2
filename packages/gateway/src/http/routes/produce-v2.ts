/**
 * REST Proxy v2 produce: POST /topics/{topic} and /topics/{topic}/partitions/{partition}.
 * Records are encoded before anything is queued, so a bad record fails the whole request
 * without writing any of it.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { GatewayConfig } from "../../config.ts";
import { ErrorCode, partitionNotFound, topicNotFound } from "../../errors.ts";
import { schemaFormats } from "../../formats/embedded-format.ts";
import { v2RecordErrorCode } from "../../kafka/delivery-errors.ts";
import type { DeliveryResult, ProducerPool } from "../../kafka/producer-pool.ts";
import type { Schemas } from "../../schemas/index.ts";
import { readJsonBody } from "../body.ts";
import { sendRecords, withoutIdempotency } from "../idempotency/index.ts";
import { embeddedFormatOfContentType, negotiate, v2ProduceResponseTypes } from "../media-types.ts";
import { parsePartition } from "../params.ts";
import { decodeRequest, decodeSchemaRequest, type SchemaRecords, type V2RequestSpec } from "./produce-v2-request.ts";

interface Deps {
  config: GatewayConfig;
  producers: ProducerPool;
  /** Schema formats; null without a Schema Registry (they then answer 42206/42207). */
  schemas?: Schemas | null;
  /** Idempotency-Key handling (http/idempotency); none in route unit tests. */
  idempotency?: MiddlewareHandler;
}

export function produceV2Routes({ config, producers, schemas = null, idempotency = withoutIdempotency }: Deps): Hono {
  const app = new Hono();

  const produce = async (c: Context) => {
    const topic = c.req.param("topic") as string;
    const format = embeddedFormatOfContentType(c);
    const responseType = negotiate(c, v2ProduceResponseTypes);
    const rawPartition = c.req.param("partition");
    const pathPartition = rawPartition === undefined ? null : parsePartition(rawPartition);
    const spec: V2RequestSpec = { topic, pathPartition, format, maxRecords: config.produce.maxRecordsPerRequest };
    // The parsed body dies inside decodeRequest: only the encoded records live across the awaits.
    // Numbers are kept exactly only for the json format, which writes them back as sent; schema
    // formats convert them to the schema's types.
    const body = await readJsonBody(c, config.http.maxBodyBytes, { exactNumbers: format === "json" });
    const withSchemas = schemas !== null && schemaFormats.has(format);
    // Deliberate deviation: REST Proxy's producer waits max.block.ms (60 s) for an unknown topic,
    // then answers 200 with 50003 for every record. Wharf answers 404 / 40401 at once: before
    // decoding for the schema formats, whose decoding registers schemas, so a request to a topic
    // that does not exist leaves no subject behind in the registry either.
    const topicPartitions = async () => {
      const count = await producers.partitionCount(topic);
      if (count === null) throw topicNotFound(topic);
      return count;
    };
    const known = withSchemas ? await topicPartitions() : null;
    const encoded: SchemaRecords = withSchemas
      ? await decodeSchemaRequest(body, spec, schemas)
      : { records: decodeRequest(body, spec), keySchemaId: null, valueSchemaId: null };
    const { records } = encoded;
    const partitions = known ?? (await topicPartitions());
    // Deliberate deviation: a partition out of range is a whole-request 500 / 50002 ("Invalid
    // partition given with record") in REST Proxy; Wharf answers 404 / 40402, writing nothing.
    if (records.some((r) => r.partition !== null && r.partition >= partitions)) {
      const fresh = await producers.partitionCount(topic, true);
      if (fresh === null) throw topicNotFound(topic);
      if (records.some((r) => r.partition !== null && r.partition >= fresh)) throw partitionNotFound();
    }

    const results = await sendRecords(c, producers)(records, 0);
    return c.body(JSON.stringify(toV2Response(results, encoded)), v2Status(results), { "content-type": responseType });
  };

  app.post("/topics/:topic", idempotency, produce);
  app.post("/topics/:topic/partitions/:partition", idempotency, produce);
  return app;
}

function toV2Response(results: DeliveryResult[], ids: SchemaRecords) {
  return {
    offsets: results.map((r) =>
      r.ok
        ? { partition: r.partition, offset: r.offset, error_code: null, error: null }
        : { partition: null, offset: null, error_code: v2RecordErrorCode(r.error), error: r.error.message },
    ),
    key_schema_id: ids.keySchemaId,
    value_schema_id: ids.valueSchemaId,
  };
}

/**
 * REST Proxy's ProduceResponse#getRequestStatus: the first record that failed authentication
 * (401) or authorization (403) sets the status; any other failure leaves it at 200.
 */
function v2Status(results: DeliveryResult[]): 200 | 401 | 403 {
  for (const r of results) {
    if (r.ok) continue;
    const code = v2RecordErrorCode(r.error);
    if (code === ErrorCode.Unauthenticated) return 401;
    if (code === ErrorCode.Forbidden) return 403;
  }
  return 200;
}
