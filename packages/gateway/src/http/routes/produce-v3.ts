/**
 * REST Proxy v3 produce: POST /v3/clusters/{cluster_id}/topics/{topic}/records (one record, or
 * many as concatenated JSON in one streaming request) and .../records:batch.
 *
 * Kept Confluent quirk: the records route answers 200 as soon as the first record is read and
 * reports each record's outcome in-band, in order, as `{...}\r\n` with its own error_code.
 * Like REST Proxy, the cluster_id in the path is echoed, not checked.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { GatewayConfig } from "../../config.ts";
import {
  badRequest,
  invalidPayload,
  partitionNotFound,
  produceBatchError,
  topicNotFound,
  unrecognizedField,
} from "../../errors.ts";
import { renderData } from "../../formats/embedded-format.ts";
import type { DeliveryResult, ProducerPool } from "../../kafka/producer-pool.ts";
import type { Schemas } from "../../schemas/index.ts";
import { type RequestEnv, readJsonBody } from "../body.ts";
import { type SendRecords, sendRecords, withoutIdempotency } from "../idempotency/index.ts";
import { isObject } from "../json.ts";
import { negotiate, requireJsonContentType, v3ResponseTypes } from "../media-types.ts";
import {
  encodeV3Record,
  needsSchemas,
  readV3Record,
  UnrecognizedFieldError,
  type V3Record,
  type V3Request,
  v3Error,
  v3Result,
} from "./v3-records.ts";
import { encodeV3SchemaRecord } from "./v3-schema-records.ts";
import { type Report, ReportQueue, readRecords } from "./v3-stream.ts";

interface Deps {
  config: GatewayConfig;
  producers: ProducerPool;
  /** Schema types; null without a Schema Registry (they then answer 42206). */
  schemas?: Schemas | null;
  /** Idempotency-Key handling (http/idempotency); none in route unit tests. */
  idempotency?: MiddlewareHandler;
}

/** REST Proxy's api.v3.produce.batch.maximum.entries default. */
const BATCH_MAX_ENTRIES = 10;
/** How long one request trusts its own topic lookup before asking the pool again. */
const TOPIC_LOOKUP_MS = 1000;

export function produceV3Routes({ config, producers, schemas = null, idempotency = withoutIdempotency }: Deps): Hono {
  const app = new Hono();

  /**
   * Sends one request's records through one producer in the order they were read, so they keep
   * that order on each partition, and looks the topic up once rather than per record. `index`:
   * the record's position in the request (writes.ts).
   */
  const createSender = (topic: string, sendRecord: SendRecords) => {
    const lane = producers.nextLane();
    let lookup: { partitions: Promise<number | null>; at: number } | null = null;
    let order: Promise<unknown> = Promise.resolve();

    /** The topic's partition count, looked up once a while; 40401 for a topic Kafka does not have. */
    const topicPartitions = async (): Promise<number> => {
      if (lookup === null || Date.now() - lookup.at > TOPIC_LOOKUP_MS) {
        const partitions = producers.partitionCount(topic);
        lookup = { partitions, at: Date.now() };
        // A failed lookup (Kafka unreachable) is not kept for the next record.
        partitions.catch(() => {
          if (lookup?.partitions === partitions) lookup = null;
        });
      }
      const partitions = await lookup.partitions;
      // Deliberate deviation: REST Proxy's producer waits 60 s for an unknown topic, then reports
      // 40401 in-band; Wharf reports it at once.
      if (partitions === null) throw topicNotFound(topic);
      return partitions;
    };

    const checkTarget = async (record: V3Record) => {
      let partitions: number | null = await topicPartitions();
      if (record.partition !== null && record.partition >= partitions) {
        partitions = await producers.partitionCount(topic, true);
        // Deliberate deviation: REST Proxy's producer throws "Invalid partition" (50002 in-band);
        // Wharf reports the partition as not found, as it does for a negative one.
        if (partitions === null || record.partition >= partitions) throw partitionNotFound();
      }
    };

    // A record still being serialized (a schema to fetch) holds its place: the records after it
    // wait, so they keep the request's order on each partition.
    const send = (
      pending: V3Record | Promise<V3Record>,
      index: number,
    ): Promise<{ record: V3Record; result: DeliveryResult }> => {
      // Its failure is reported through the chain; this only keeps Node from calling it unhandled
      // while the records before it are still on their way.
      if (pending instanceof Promise) pending.catch(() => {});
      const queued = order.then(async () => {
        const record = await pending;
        await checkTarget(record);
        // Wrapped so the chain waits for the record to be queued, not for its delivery.
        return { record, delivery: sendRecord([record], index, lane) };
      });
      order = queued.catch(() => {});
      return queued.then(async ({ record, delivery }) => ({ record, result: (await delivery)[0] as DeliveryResult }));
    };

    // Without a registry, encodeV3Record answers the schema types as REST Proxy does without one.
    // With one, the topic is checked first: serializing may register a schema, and a record for a
    // topic that does not exist must leave no subject behind in the registry.
    const encode = (request: V3Request): V3Record | Promise<V3Record> =>
      schemas !== null && needsSchemas(request)
        ? topicPartitions().then(() => encodeV3SchemaRecord(request, topic, schemas))
        : encodeV3Record(request, topic);

    return { send, encode };
  };

  app.post("/v3/clusters/:clusterId/topics/:topic/:action{records}", idempotency, async (c) => {
    requireJsonContentType(c);
    negotiate(c, v3ResponseTypes);
    const clusterId = c.req.param("clusterId");
    const topic = c.req.param("topic");
    // A keyed request's body was read whole by the idempotency middleware (http/idempotency).
    const preloaded = (c.env as RequestEnv | undefined)?.body;
    const body = preloaded ? (preloaded.length > 0 ? ReadableStream.from([preloaded]) : null) : c.req.raw.body;
    if (!body) throw invalidPayload("Request body is empty. Data is required.");

    const { send, encode } = createSender(topic, sendRecords(c, producers));
    let position = 0;
    const produceOne = async (input: unknown): Promise<Report> => {
      const index = position++;
      try {
        const { record, result } = await send(encode(readV3Record(input)), index);
        return v3Result(clusterId, record, result);
      } catch (error) {
        return v3Error(error);
      }
    };

    const reports = new ReportQueue();
    const reading = readRecords(body, config.http.maxBodyBytes, reports, produceOne);
    await reports.ready();
    if (reports.size === 0) {
      await reading;
      throw invalidPayload("Request body is empty. Data is required.");
    }
    return c.body(reports.toStream(), 200, { "content-type": "application/json" });
  });

  app.post("/v3/clusters/:clusterId/topics/:topic/:action{records:batch}", idempotency, async (c) => {
    requireJsonContentType(c);
    negotiate(c, v3ResponseTypes);
    const clusterId = c.req.param("clusterId");
    const topic = c.req.param("topic");
    const entries = readBatch(await readJsonBody(c, config.http.maxBodyBytes));

    const { send, encode } = createSender(topic, sendRecords(c, producers));
    const outcomes = await Promise.all(
      entries.map(async ({ id, request }, index) => {
        try {
          const { record, result } = await send(encode(request), index);
          return { id, ...v3Result(clusterId, record, result) };
        } catch (error) {
          return { id, ...v3Error(error) };
        }
      }),
    );
    const successes = outcomes.filter((o) => o.error_code === 200).map(({ error_code: _, ...rest }) => rest);
    const failures = outcomes.filter((o) => o.error_code !== 200);
    return c.json({ successes, failures }, 207);
  });

  return app;
}

const batchId = /^[0-9a-zA-Z_-]{1,80}$/;

/**
 * A records:batch body, with REST Proxy's whole-request errors in its order: what Jackson refuses
 * while reading (400; unknown fields 422; bad ids 42208), then empty body, duplicate ids, size.
 */
function readBatch(body: unknown): Array<{ id: string; request: V3Request }> {
  if (body === undefined || body === null) throw produceBatchError("Request body is empty. Data is required.");
  if (!isObject(body)) throw badRequest(`Cannot deserialize ProduceBatchRequest from ${renderData(body)}.`);
  for (const field of Object.keys(body)) {
    if (field !== "entries") throw unrecognizedField(field);
  }
  const raw = body.entries ?? [];
  if (!Array.isArray(raw)) throw badRequest(`entries must be an array, got ${renderData(raw)}.`);
  const entries = raw.map((entry) => {
    let request: V3Request;
    try {
      request = readV3Record(entry, true);
    } catch (error) {
      throw error instanceof UnrecognizedFieldError ? unrecognizedField(error.field) : error;
    }
    const id = (entry as { id?: unknown }).id;
    if (typeof id !== "string" || !batchId.test(id)) {
      throw produceBatchError("Batch entry identifier is not a valid string.");
    }
    return { id, request };
  });
  if (new Set(entries.map((e) => e.id)).size !== entries.length) {
    throw produceBatchError("Batch entry IDs are not distinct.");
  }
  if (entries.length === 0) throw produceBatchError("Empty batch.");
  if (entries.length > BATCH_MAX_ENTRIES) throw produceBatchError("Too many entries in batch.");
  return entries;
}
