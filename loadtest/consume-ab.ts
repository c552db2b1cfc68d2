/**
 * The consume throughput comparison alone, repeated: a topic is filled once, then each round reads
 * it from the beginning with a plain librdkafka consumer and with a fresh v2 instance (binary, GET
 * records one poll at a time, as the `consume` scenario does), back to back. On a shared machine
 * one pair says little; the rounds give the spread. Per round: records/s of both, their ratio, the
 * gateway's CPU µs per record (from /proc), records per poll, and the load average.
 *
 * With `--idle N` it first measures what an instance that nobody reads costs the gateway: N
 * instances assigned to the filled topic (`--idle-mode backlog`: librdkafka prefetches up to
 * consumer.prefetch.max.bytes into each), to an empty one (`empty`), or to the filled one and read
 * once each (`read-once`: what a client that read once and left costs); the gateway's RSS
 * growth per instance once it settles, `--idle-wait-ms` after the last one was created (past the
 * gateway's consumer.idle.pause.ms, it shows what pausing an unread instance frees). Use a fresh
 * gateway for each mode (an allocator keeps what deleted instances freed). `--rounds 0` skips the
 * throughput rounds.
 *
 *   node loadtest/consume-ab.ts --kafka 127.0.0.1:9092 --gateway http://127.0.0.1:8082 --gateway-pid 1234 \
 *     [--records 100000] [--rounds 3] [--idle 20 --idle-mode backlog|empty|read-once [--idle-wait-ms 5000]] [--json]
 */
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Admin } from "@platformatic/kafka";
import { createV2Instance, deleteV2Instance, plainConsumer, type RecordReader, v2Reader } from "./consumers.ts";
import { createPlainProducer } from "./plain-producer.ts";
import { processCpuSeconds, processRssBytes } from "./process-stats.ts";
import { gatewayPool } from "./scenarios.ts";

const { values } = parseArgs({
  options: {
    kafka: { type: "string" },
    gateway: { type: "string" },
    "gateway-pid": { type: "string" },
    records: { type: "string", default: "100000" },
    rounds: { type: "string", default: "3" },
    partitions: { type: "string", default: "3" },
    idle: { type: "string", default: "0" },
    "idle-mode": { type: "string", default: "backlog" },
    "idle-wait-ms": { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});
if (!values.kafka || !values.gateway) throw new Error("--kafka and --gateway are required");
for (const url of [values.gateway, ...values.kafka.split(",").map((b) => `tcp://${b}`)]) {
  if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname)) throw new Error(`not loopback: ${url}`);
}
const kafka = values.kafka;
const gateway = values.gateway;
const gatewayPid = values["gateway-pid"] ? Number(values["gateway-pid"]) : null;
const records = Number(values.records);
const partitions = Number(values.partitions);
const log = (message: string) => process.stderr.write(`[consume-ab] ${message}\n`);
/** A read that has not finished by then is cut short and reported as it stands. */
const READ_DEADLINE_MS = 120_000;

interface Read {
  recordsPerSec: number;
  gatewayUsPerRecord: number | null;
  polls: number | null;
}

async function timed(reader: RecordReader, polls?: () => number): Promise<Read> {
  const cpu0 = gatewayPid === null ? null : processCpuSeconds(gatewayPid);
  const startedAt = performance.now();
  const seen = await reader.run(() => {}, records, startedAt + READ_DEADLINE_MS);
  const elapsedS = (performance.now() - startedAt) / 1000;
  const cpu1 = gatewayPid === null ? null : processCpuSeconds(gatewayPid);
  return {
    recordsPerSec: seen / elapsedS,
    gatewayUsPerRecord: cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0) * 1e6) / seen,
    polls: polls ? polls() : null,
  };
}

/** Gateway RSS once it stops growing (three samples a second apart within 1%), at most 30 s. */
async function settledRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    samples.push(processRssBytes(pid) ?? 0);
    const last = samples.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) < 0.01 * Math.max(...last)) break;
  }
  return samples.at(-1) ?? 0;
}

/**
 * RSS growth per instance of `count` instances assigned to `onTopic` that nobody reads, or that
 * were read once (`readOnce`: one GET each, then abandoned).
 */
async function idleCost(onTopic: string, count: number, readOnce = false): Promise<number> {
  if (gatewayPid === null) throw new Error("--idle needs --gateway-pid");
  const before = await settledRss(gatewayPid);
  const instances = [];
  for (let i = 0; i < count; i++) {
    const instance = await createV2Instance(gateway, onTopic, partitions);
    instances.push(instance);
    if (!readOnce) continue;
    const pool = gatewayPool(gateway, 1);
    try {
      const reader = v2Reader(pool, instance, false);
      await reader.run(() => {}, 1, performance.now() + 10_000);
    } finally {
      await pool.destroy();
    }
  }
  // Long enough, the gateway's idle pause (consumer.idle.pause.ms) frees what librdkafka prefetched.
  await new Promise((resolve) => setTimeout(resolve, Number(values["idle-wait-ms"])));
  const after = await settledRss(gatewayPid);
  for (const instance of instances) await deleteV2Instance(gateway, instance);
  return (after - before) / count / 2 ** 20;
}

const admin = new Admin({ clientId: "wharf-consume-ab", bootstrapBrokers: kafka.split(",") });
const topic = `wharf-consume-ab-${randomUUID().slice(0, 8)}`;
await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
for (let i = 0; i < 50; i++) {
  const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
  if (metadata.topics.get(topic)?.partitionsCount === partitions) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const rounds: Array<{ load: number; plain: Read; v2: Read; ratio: number; recordsPerPoll: number | null }> = [];
try {
  log(`writing ${records} records of 1 KiB to ${topic}`);
  const value = Buffer.alloc(1024);
  for (let i = 0; i < value.length; i++) value[i] = Math.floor(Math.random() * 256);
  const filler = await createPlainProducer(kafka, topic, value);
  try {
    await filler.maxThroughput({ durationMs: 120_000, maxRecords: records, window: 20_000, drainTimeoutMs: 30_000 });
  } finally {
    await filler.close();
  }
  const idle = Number(values.idle);
  if (idle > 0) {
    const mode = values["idle-mode"];
    let onTopic = topic;
    if (mode === "empty") {
      onTopic = `${topic}-empty`;
      await admin.createTopics({ topics: [onTopic], partitions, replicas: 1 });
    } else if (mode !== "backlog" && mode !== "read-once") {
      throw new Error(`--idle-mode is one of empty, backlog, read-once (got ${mode})`);
    }
    try {
      const each = await idleCost(onTopic, idle, mode === "read-once");
      log(
        `idle instances (${mode}): ${each.toFixed(2)} MiB of gateway RSS each (${idle}, load ${loadavg()[0]?.toFixed(2)})`,
      );
    } finally {
      if (onTopic !== topic) await admin.deleteTopics({ topics: [onTopic] }).catch(() => {});
    }
  }
  for (let round = 1; round <= Number(values.rounds); round++) {
    const load = loadavg()[0] as number;
    const plainReader = await plainConsumer(kafka, topic, partitions, "beginning");
    let plain: Read;
    try {
      plain = await timed(plainReader);
    } finally {
      await plainReader.close();
    }
    const instance = await createV2Instance(gateway, topic, partitions);
    const pool = gatewayPool(gateway, 1);
    let v2: Read;
    try {
      const reader = v2Reader(pool, instance, false);
      v2 = await timed(reader, reader.polls);
    } finally {
      await deleteV2Instance(gateway, instance);
      await pool.destroy();
    }
    const ratio = v2.recordsPerSec / plain.recordsPerSec;
    const recordsPerPoll = v2.polls ? records / v2.polls : null;
    rounds.push({ load, plain, v2, ratio, recordsPerPoll });
    log(
      `round ${round} (load ${load.toFixed(2)}): plain ${plain.recordsPerSec.toFixed(0)}/s, v2 ${v2.recordsPerSec.toFixed(0)}/s, ` +
        `ratio ${ratio.toFixed(2)}, gateway ${v2.gatewayUsPerRecord?.toFixed(2) ?? "-"} µs/record, ` +
        `${recordsPerPoll?.toFixed(0) ?? "-"} records/poll`,
    );
  }
} finally {
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.close();
}
const sorted = rounds.map((r) => r.ratio).sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? null;
if (values.json) process.stdout.write(`${JSON.stringify({ topic, records, rounds, medianRatio: median })}\n`);
else
  console.log(
    `median ratio ${median?.toFixed(2)} over ${rounds.length} rounds; load at end ${loadavg()[0]?.toFixed(2)}`,
  );
