/**
 * Avro against binary through one gateway, in the same run and with records of the same size:
 * 100-record v2 produce (binary; avro by value_schema_id; avro with the schema inline in every
 * request, as many REST Proxy clients send it) and v2 consume of the records just written, plus
 * how many requests reached the registry meanwhile (cached lookups: none per record).
 */
import { Admin } from "@platformatic/kafka";
import { Pool, request } from "undici";
import { runClosedModel } from "./closed-model.ts";
import { createV2Instance, deleteV2Instance } from "./consumers.ts";
import { produceV2Request, type RequestSpec, V2 } from "./http-request.ts";
import { MAX_REQUESTS, measure, type ScenarioContext } from "./phase.ts";
import type { PhaseStats } from "./process-stats.ts";

export const RECORDS_PER_REQUEST = 100;
const CONNECTIONS = 16;
const POLL_MAX_BYTES = 4 * 1024 * 1024;
const AVRO = "application/vnd.kafka.avro.v2+json";
const V2_BINARY = "application/vnd.kafka.binary.v2+json";

/** One long and a string: about as many bytes in Avro as the binary phase's random value. */
export const BENCH_SCHEMA = JSON.stringify({
  type: "record",
  name: "BenchRecord",
  namespace: "wharf.bench",
  fields: [
    { name: "id", type: "long" },
    { name: "payload", type: "string" },
  ],
});

export interface SchemaPhase {
  name: string;
  kind: "produce" | "consume";
  recordsPerSec: number;
  requestsPerSec: number | null;
  records: number;
  errors: number;
  serviceP50Ms: number | null;
  serviceP99Ms: number | null;
  /** Gateway CPU per record, microseconds. */
  gatewayUsPerRecord: number | null;
  /** Requests the registry received during the phase (its stand-in counter), and the gateway's own count. */
  registryRequests: number | null;
  gatewayRegistryRequests: number | null;
  stats: PhaseStats;
}

export interface SchemaContext {
  scenario: ScenarioContext;
  registryUrl: string;
  /** Records each consume phase reads from the beginning of its topic (at most what was produced). */
  consumeRecords: number;
}

/** The avro record whose encoding is as long as `value` (string length + zig-zag varints). */
function avroRecord(value: Buffer) {
  return { id: 1, payload: value.toString("base64").slice(0, value.length - 4) };
}

function avroRequest(topic: string, value: Buffer, schema: { id: number } | { inline: string }): RequestSpec {
  const record = JSON.stringify({ value: avroRecord(value) });
  const head = "id" in schema ? `"value_schema_id":${schema.id}` : `"value_schema":${JSON.stringify(schema.inline)}`;
  const records = new Array(RECORDS_PER_REQUEST).fill(record).join(",");
  return {
    label: `POST /topics/{t} ${RECORDS_PER_REQUEST} avro records (${"id" in schema ? "schema id" : "inline schema"})`,
    method: "POST",
    path: `/topics/${encodeURIComponent(topic)}`,
    headers: { "content-type": AVRO, accept: V2 },
    body: Buffer.from(`{${head},"records":[${records}]}`),
    records: RECORDS_PER_REQUEST,
  };
}

/** The stand-in registry's request count (GET /_standin/metrics); null against another registry. */
export async function registryRequests(registryUrl: string): Promise<number | null> {
  try {
    const response = await request(`${registryUrl}/_standin/metrics`);
    const text = await response.body.text();
    return response.statusCode === 200 ? (JSON.parse(text).requests as number) : null;
  } catch {
    return null;
  }
}

/** The sum over labels of the gateway's wharf_schema_registry_requests_total. */
export async function gatewayRegistryRequests(gatewayUrl: string): Promise<number | null> {
  try {
    const response = await request(`${gatewayUrl}/metrics`);
    const text = await response.body.text();
    let total: number | null = null;
    for (const line of text.split("\n")) {
      if (!/^wharf_schema_registry_requests_total[{ ]/.test(line)) continue;
      total = (total ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  } catch {
    return null;
  }
}

async function counted<T>(ctx: SchemaContext, run: () => Promise<T>) {
  const url = ctx.scenario.target.gatewayUrl;
  const [reg0, gw0] = [await registryRequests(ctx.registryUrl), await gatewayRegistryRequests(url)];
  const m = await measure(ctx.scenario, run);
  const [reg1, gw1] = [await registryRequests(ctx.registryUrl), await gatewayRegistryRequests(url)];
  return {
    ...m,
    registryRequests: reg0 === null || reg1 === null ? null : reg1 - reg0,
    // prom-client shows a labelled counter only once it was incremented: absent before means 0.
    gatewayRegistryRequests: gw1 === null ? null : gw1 - (gw0 ?? 0),
  };
}

const usPerRecord = (stats: PhaseStats, recordsPerSec: number) =>
  stats.gatewayCpu === null || recordsPerSec <= 0 ? null : (stats.gatewayCpu * 1e6) / recordsPerSec;

async function producePhase(ctx: SchemaContext, pool: Pool, spec: RequestSpec, name: string): Promise<SchemaPhase> {
  const { scenario } = ctx;
  const closed = { pool, request: spec, concurrency: CONNECTIONS, maxRequests: MAX_REQUESTS };
  scenario.log(`schemas: ${name}, warm-up ${scenario.warmupMs / 1000} s`);
  await runClosedModel({ ...closed, durationMs: scenario.warmupMs });
  scenario.log(`schemas: ${name}, closed model, ${CONNECTIONS} connections, ${scenario.durationMs / 1000} s`);
  const m = await counted(ctx, () => runClosedModel({ ...closed, durationMs: scenario.durationMs }));
  const r = m.result;
  return {
    name,
    kind: "produce",
    recordsPerSec: r.recordsPerSec,
    requestsPerSec: r.requestsPerSec,
    records: r.outcomes.ok * spec.records,
    errors: r.requests - r.outcomes.ok,
    serviceP50Ms: r.serviceTimeMs?.p50 ?? null,
    serviceP99Ms: r.serviceTimeMs?.p99 ?? null,
    gatewayUsPerRecord: usPerRecord(m.stats, r.recordsPerSec),
    registryRequests: m.registryRequests,
    gatewayRegistryRequests: m.gatewayRegistryRequests,
    stats: m.stats,
  };
}

const OFFSET_FIELD = Buffer.from('"offset":');
function countRecords(body: Buffer): number {
  let n = 0;
  for (let at = body.indexOf(OFFSET_FIELD); at !== -1; at = body.indexOf(OFFSET_FIELD, at + OFFSET_FIELD.length)) n++;
  return n;
}

/** A v2 instance in `format` reads `count` records from the beginning, one poll at a time. */
async function consumePhase(
  ctx: SchemaContext,
  topic: string,
  format: "binary" | "avro",
  count: number,
): Promise<SchemaPhase> {
  const { scenario } = ctx;
  const url = scenario.target.gatewayUrl;
  const instance = await createV2Instance(url, topic, scenario.target.partitions);
  if (format === "avro") {
    // createV2Instance makes binary instances: replace it with an avro one on the same assignment.
    await deleteV2Instance(url, instance);
    await v2(url, "POST", `/consumers/${instance.group}`, {
      name: instance.name,
      format: "avro",
      "auto.offset.reset": "earliest",
      "auto.commit.enable": "false",
    });
    const partitions = Array.from({ length: scenario.target.partitions }, (_, partition) => ({ topic, partition }));
    await v2(url, "POST", `${instance.path}/assignments`, { partitions });
  }
  const pool = new Pool(url, { connections: 1, pipelining: 1 });
  const accept = format === "avro" ? AVRO : V2_BINARY;
  const path = `${instance.path}/records?timeout=200&max_bytes=${POLL_MAX_BYTES}`;
  const name = `v2 consume, ${format}`;
  scenario.log(`schemas: ${name}, reading ${count} records`);
  try {
    let polls = 0;
    let failed = 0;
    const startedAt = performance.now();
    const deadline = startedAt + 4 * scenario.durationMs;
    const m = await counted(ctx, async () => {
      let seen = 0;
      while (seen < count && performance.now() < deadline) {
        const response = await pool.request({ method: "GET", path, headers: { accept } });
        const body = Buffer.from(await response.body.arrayBuffer());
        polls++;
        if (response.statusCode === 200) seen += countRecords(body);
        else failed++;
      }
      return seen;
    });
    const elapsedS = (performance.now() - startedAt) / 1000;
    const recordsPerSec = m.result / elapsedS;
    return {
      name,
      kind: "consume",
      recordsPerSec,
      requestsPerSec: polls / elapsedS,
      records: m.result,
      errors: failed,
      serviceP50Ms: null,
      serviceP99Ms: null,
      gatewayUsPerRecord: usPerRecord(m.stats, recordsPerSec),
      registryRequests: m.registryRequests,
      gatewayRegistryRequests: m.gatewayRegistryRequests,
      stats: m.stats,
    };
  } finally {
    await pool.destroy();
    await deleteV2Instance(url, instance);
  }
}

async function v2(url: string, method: "POST", path: string, body: unknown): Promise<unknown> {
  const response = await request(`${url}${path}`, {
    method,
    headers: { "content-type": V2, accept: V2 },
    body: JSON.stringify(body),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${method} ${path} answered ${response.statusCode}: ${text}`);
  return text === "" ? null : JSON.parse(text);
}

async function createTopic(kafka: string, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: "wharf-bench-schemas", bootstrapBrokers: kafka.split(",") });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    for (let attempt = 0; attempt < 50; attempt++) {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      if (metadata.topics.get(topic)?.partitionsCount === partitions) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`topic ${topic} did not show ${partitions} partitions within 5 s`);
  } finally {
    await admin.close();
  }
}

/** Binary produce, avro produce by id and inline, then both consumes; the binary topic is the target's. */
export async function schemaPhases(ctx: SchemaContext): Promise<SchemaPhase[]> {
  const { scenario } = ctx;
  const { target } = scenario;
  const avroTopic = `${target.topic}-avro`;
  await createTopic(target.kafka, avroTopic, target.partitions);
  const pool = new Pool(target.gatewayUrl, { connections: CONNECTIONS, pipelining: 1 });
  try {
    // One request registers the schema (as a client's first request would) and gives its id: the
    // registry requests it costs show what a cache miss is, beside the phases' (cached) zero.
    const phases: SchemaPhase[] = [];
    let id = 0;
    const registering = await counted(ctx, async () => {
      const first = await v2Produce(target.gatewayUrl, avroTopic, {
        value_schema: BENCH_SCHEMA,
        records: [{ value: avroRecord(scenario.value) }],
      });
      id = (first as { value_schema_id: number }).value_schema_id;
    });
    scenario.log(`schemas: ${avroTopic} value schema id ${id}`);
    phases.push({
      name: "first avro request (registers)",
      kind: "produce",
      recordsPerSec: 0,
      requestsPerSec: null,
      records: 1,
      errors: 0,
      serviceP50Ms: null,
      serviceP99Ms: null,
      gatewayUsPerRecord: null,
      registryRequests: registering.registryRequests,
      gatewayRegistryRequests: registering.gatewayRegistryRequests,
      stats: registering.stats,
    });
    // Binary before and after the avro phases, so a drift over the run (the broker's log growing,
    // a neighbour's load) shows instead of favouring whichever ran first.
    const binary = produceV2Request(target.topic, scenario.value, RECORDS_PER_REQUEST);
    phases.push(await producePhase(ctx, pool, binary, "v2 produce 100, binary"));
    phases.push(
      await producePhase(ctx, pool, avroRequest(avroTopic, scenario.value, { id }), "v2 produce 100, avro (schema id)"),
    );
    phases.push(
      await producePhase(
        ctx,
        pool,
        avroRequest(avroTopic, scenario.value, { inline: BENCH_SCHEMA }),
        "v2 produce 100, avro (inline schema)",
      ),
    );
    phases.push(await producePhase(ctx, pool, binary, "v2 produce 100, binary (again)"));
    // Both read the same number of records, no more than either topic holds.
    const [binaryRecords, byId, inline] = phases.slice(1).map((p) => p.records);
    const count = Math.min(ctx.consumeRecords, binaryRecords ?? 0, (byId ?? 0) + (inline ?? 0));
    phases.push(await consumePhase(ctx, target.topic, "binary", count));
    phases.push(await consumePhase(ctx, avroTopic, "avro", count));
    return phases;
  } finally {
    await pool.destroy();
  }
}

async function v2Produce(url: string, topic: string, body: unknown): Promise<unknown> {
  const response = await request(`${url}/topics/${encodeURIComponent(topic)}`, {
    method: "POST",
    headers: { "content-type": AVRO, accept: V2 },
    body: JSON.stringify(body),
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`avro produce answered ${response.statusCode}: ${text}`);
  return JSON.parse(text);
}
