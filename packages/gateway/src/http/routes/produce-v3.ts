/**
 * REST Proxy v3 produce: POST /v3/clusters/{cluster_id}/topics/{topic}/records (one record, or
 * many as concatenated JSON in one streaming request) and .../records:batch.
 *
 * Kept Confluent quirk: the records route answers 200 as soon as the first record is read and
 * reports each record's outcome in-band, in order, as `{...}\r\n` with its own error_code.
 */
import { type Context, Hono } from "hono";
import type { GatewayConfig } from "../../config.ts";
import { badRequest, ErrorCode, partitionNotFound, RestError, topicNotFound, unprocessable } from "../../errors.ts";
import type { KafkaAdmin } from "../../kafka/admin-client.ts";
import type { ProducerPool } from "../../kafka/producer-pool.ts";
import { isObject, parseJson, readJsonBody } from "../body.ts";
import { ConcatenatedJsonSplitter } from "../json-stream.ts";
import { parseV3Record, type V3Record, v3Error, v3Result } from "./v3-records.ts";

interface Deps {
  config: GatewayConfig;
  producers: ProducerPool;
  admin: KafkaAdmin;
}

/** Records read ahead of their delivery reports before reading pauses. */
const MAX_STREAM_INFLIGHT = 1000;
const BATCH_MAX_ENTRIES = 10;

export function produceV3Routes({ config, producers, admin }: Deps): Hono {
  const app = new Hono();

  const checkCluster = async (c: Context) => {
    const clusterId = await admin.clusterId();
    if (c.req.param("clusterId") !== clusterId) {
      throw new RestError(404, ErrorCode.NotFound, `Cluster ${c.req.param("clusterId")} cannot be found.`);
    }
    return clusterId;
  };

  const validateTarget = async (record: V3Record) => {
    const partitions = await producers.partitionCount(record.topic);
    if (partitions === null) throw topicNotFound(record.topic);
    if (record.partition !== null && record.partition >= partitions) throw partitionNotFound();
  };

  const produceOne = async (clusterId: string, text: string, topic: string): Promise<object> => {
    try {
      const record = parseV3Record(parseJson(text), topic);
      await validateTarget(record);
      const [result] = await producers.send([record]);
      return v3Result(clusterId, record, result as NonNullable<typeof result>);
    } catch (error) {
      return v3Error(error);
    }
  };

  app.post("/v3/clusters/:clusterId/topics/:topic/:action{records}", async (c) => {
    const clusterId = await checkCluster(c);
    const topic = c.req.param("topic");
    const body = c.req.raw.body;
    if (!body) throw unprocessable("Request body is empty. Data is required.");

    const splitter = new ConcatenatedJsonSplitter(config.http.maxBodyBytes);
    const results: Promise<object>[] = [];
    let inputDone = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const waitForChange = () => new Promise<void>((resolve) => (wake = resolve));

    // Reads the request while replies are written: a streaming client gets each report as soon
    // as its record is acknowledged, in the order it sent them.
    const reading = (async () => {
      try {
        for await (const chunk of body) {
          for (const text of splitter.push(chunk)) {
            results.push(produceOne(clusterId, text, topic));
            notify();
          }
          while (results.length >= MAX_STREAM_INFLIGHT) await waitForChange();
        }
        const rest = splitter.end();
        if (rest !== null) results.push(produceOne(clusterId, rest, topic));
      } catch (error) {
        const failure =
          error instanceof RangeError
            ? unprocessable("Payload error. Record too large.")
            : badRequest(`Cannot read request body: ${(error as Error).message}`);
        results.push(Promise.resolve(v3Error(failure)));
      } finally {
        inputDone = true;
        notify();
      }
    })();

    while (results.length === 0 && !inputDone) await waitForChange();
    if (results.length === 0) {
      await reading;
      throw unprocessable("Request body is empty. Data is required.");
    }

    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        while (results.length === 0 && !inputDone) await waitForChange();
        const next = results.shift();
        if (!next) {
          controller.close();
          return;
        }
        notify();
        controller.enqueue(encoder.encode(`${JSON.stringify(await next)}\r\n`));
      },
    });
    return c.body(stream, 200, { "content-type": "application/json" });
  });

  app.post("/v3/clusters/:clusterId/topics/:topic/:action{records:batch}", async (c) => {
    const clusterId = await checkCluster(c);
    const topic = c.req.param("topic");
    const body = await readJsonBody(c, config.http.maxBodyBytes);
    const batchError = (message: string) => new RestError(422, ErrorCode.ProduceBatch, message);
    if (!isObject(body) || !Array.isArray(body.entries)) throw batchError("Request body is empty. Data is required.");
    const entries = body.entries as unknown[];
    if (entries.length === 0) throw batchError("Empty batch.");
    if (entries.length > BATCH_MAX_ENTRIES) throw batchError("Too many entries in batch.");
    const ids = entries.map((e) => (isObject(e) ? e.id : undefined));
    if (ids.some((id) => typeof id !== "string" || id.length < 1 || id.length > 80)) {
      throw batchError("Batch entry identifier is not a valid string.");
    }
    if (new Set(ids).size !== ids.length) throw batchError("Batch entry IDs are not distinct.");

    const outcomes = await Promise.all(
      entries.map(async (entry) => {
        const id = (entry as { id: string }).id;
        try {
          const record = parseV3Record(entry, topic);
          await validateTarget(record);
          const [result] = await producers.send([record]);
          return { id, ...v3Result(clusterId, record, result as NonNullable<typeof result>) };
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
