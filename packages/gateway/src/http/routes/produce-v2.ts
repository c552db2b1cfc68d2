/**
 * REST Proxy v2 produce: POST /topics/{topic} and /topics/{topic}/partitions/{partition}.
 * Records are encoded before anything is queued, so a bad record fails the whole request
 * without writing any of it.
 */
import { type Context, Hono } from "hono";
import type { GatewayConfig } from "../../config.ts";
import { ErrorCode, partitionNotFound, topicNotFound, unprocessable } from "../../errors.ts";
import { encodeEmbedded, schemaFormats, schemaFormatUnsupported } from "../../formats/embedded-format.ts";
import type { DeliveryResult, OutgoingRecord, ProducerPool } from "../../kafka/producer-pool.ts";
import { isObject, readJsonBody } from "../body.ts";
import { embeddedFormatOfContentType, negotiate, v2ResponseTypes } from "../media-types.ts";
import { parsePartition } from "../params.ts";

interface Deps {
  config: GatewayConfig;
  producers: ProducerPool;
}

export function produceV2Routes({ config, producers }: Deps): Hono {
  const app = new Hono();

  const produce = async (c: Context, pathPartition: number | null) => {
    const topic = c.req.param("topic") as string;
    const format = embeddedFormatOfContentType(c);
    const responseType = negotiate(c, v2ResponseTypes);
    if (schemaFormats.has(format)) throw schemaFormatUnsupported(format);
    const body = await readJsonBody(c, config.http.maxBodyBytes);
    const records = parseRecords(
      body,
      topic,
      pathPartition,
      format as "binary" | "json",
      config.produce.maxRecordsPerRequest,
    );

    const partitions = await producers.partitionCount(topic);
    if (partitions === null) throw topicNotFound(topic);
    for (const r of records) {
      if (r.partition !== null && r.partition >= partitions) throw partitionNotFound();
    }

    const results = await producers.send(records);
    return c.body(JSON.stringify(toV2Response(results)), v2Status(results), { "content-type": responseType });
  };

  app.post("/topics/:topic", (c) => produce(c, null));
  app.post("/topics/:topic/partitions/:partition", (c) => produce(c, parsePartition(c.req.param("partition"))));
  return app;
}

function parseRecords(
  body: unknown,
  topic: string,
  pathPartition: number | null,
  format: "binary" | "json",
  maxRecords: number,
): OutgoingRecord[] {
  if (!isObject(body) || !Array.isArray(body.records)) {
    throw unprocessable('Payload error. The request body must be an object with a "records" array.');
  }
  if (body.records.length === 0) throw unprocessable("Payload error. records may not be empty.");
  if (body.records.length > maxRecords) {
    throw unprocessable(`Payload error. At most ${maxRecords} records per request, got ${body.records.length}.`);
  }
  return body.records.map((record, i): OutgoingRecord => {
    if (!isObject(record)) throw unprocessable(`Payload error. records[${i}] must be an object.`);
    let partition = pathPartition;
    if (record.partition !== undefined && record.partition !== null) {
      // A record naming its own partition is only allowed on the topic route (Confluent rejects it
      // on the partition route by ignoring it; Wharf refuses a conflicting one outright).
      if (!Number.isInteger(record.partition) || (record.partition as number) < 0) {
        throw unprocessable(`Payload error. records[${i}].partition must be a non-negative integer.`);
      }
      if (pathPartition !== null && record.partition !== pathPartition) {
        throw unprocessable(`Payload error. records[${i}].partition conflicts with the partition in the path.`);
      }
      partition = record.partition as number;
    }
    return {
      topic,
      partition,
      key: encodeEmbedded(format, record.key, `records[${i}].key`),
      value: encodeEmbedded(format, record.value, `records[${i}].value`),
    };
  });
}

function toV2Response(results: DeliveryResult[]) {
  return {
    offsets: results.map((r) =>
      r.ok
        ? { partition: r.partition, offset: r.offset, error_code: null, error: null }
        : { partition: null, offset: null, error_code: r.error.errorCode, error: r.error.message },
    ),
    key_schema_id: null,
    value_schema_id: null,
  };
}

/** Confluent escalates the whole response to 401/403 when any record failed authentication/authorization. */
function v2Status(results: DeliveryResult[]): 200 | 401 | 403 {
  let status: 200 | 401 | 403 = 200;
  for (const r of results) {
    if (r.ok) continue;
    if (r.error.errorCode === ErrorCode.Unauthenticated) return 401;
    if (r.error.errorCode === ErrorCode.Forbidden) status = 403;
  }
  return status;
}
