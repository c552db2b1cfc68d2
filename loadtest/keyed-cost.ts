/**
 * What Idempotency-Key costs a produce, and what a change costs it: `node loadtest/keyed-cost.ts
 * [--base DIR] [--duration S] [--rounds N] [--records 1,100] [--keys keyed,unkeyed]`. Starts one broker and Redis, and two gateways on
 * them: this checkout's and, with --base, another checkout's (e.g. `git archive` of the commit
 * before a change), which take turns phase by phase so both see the same machine. Each phase is a
 * closed loop of v2 binary produce (1 or 100 records of 1 KiB, with or without a fresh key per
 * request) for S seconds; it reports requests/s and gateway CPU (µs) per request, from /proc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { startStack, stopStack } from "../deploy/stack/index.ts";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    duration: { type: "string", default: "8" },
    rounds: { type: "string", default: "2" },
    connections: { type: "string", default: "16" },
    records: { type: "string", default: "1,100" },
    keys: { type: "string", default: "unkeyed,keyed" },
  },
});
const durationMs = Number(values.duration) * 1000;
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const recordCounts = (values.records as string).split(",").map(Number);
const keyModes = (values.keys as string).split(",").map((k) => k === "keyed");
const log = (m: string) => process.stderr.write(`[keyed-cost] ${m}\n`);

const HERE = resolve(import.meta.dirname, "..");
const V2_BINARY = "application/vnd.kafka.binary.v2+json";
const value = randomBytes(768).toString("base64"); // 1 KiB as base64

interface Gateway {
  name: string;
  url: string;
  process: ChildProcess;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

async function startGateway(name: string, checkout: string, port: number, kafka: string, redis: string) {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(checkout, "packages", "gateway", "src", "main.ts")], {
    env: {
      ...process.env,
      WHARF_ID: name,
      WHARF_LISTENERS: url,
      WHARF_INTERNAL_LISTENER: `http://127.0.0.1:${port + 100}`,
      WHARF_BOOTSTRAP_SERVERS: kafka,
      WHARF_REDIS_URL: redis,
      WHARF_CLUSTER_SECRET: "keyed-cost",
      WHARF_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { name, url, process: child };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} never became ready`);
}

async function phase(gateway: Gateway, topic: string, records: number, keyed: boolean) {
  const pool = new Pool(gateway.url, { connections, pipelining: 1 });
  const body = JSON.stringify({ records: Array.from({ length: records }, () => ({ value })) });
  const pid = gateway.process.pid as number;
  const ticks = cpuTicks(pid);
  const started = performance.now();
  let done = 0;
  let failed = 0;
  const worker = async () => {
    while (performance.now() - started < durationMs) {
      const headers: Record<string, string> = { "content-type": V2_BINARY };
      if (keyed) headers["idempotency-key"] = `"${randomUUID()}"`;
      const res = await pool.request({ method: "POST", path: `/topics/${topic}`, headers, body });
      const text = await res.body.text();
      if (res.statusCode === 200 && !text.includes('"error":"')) done++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const wallS = (performance.now() - started) / 1000;
  const cpuS = (cpuTicks(pid) - ticks) / 100;
  await pool.close();
  return { perSecond: done / wallS, cpuUsPerRequest: (cpuS * 1e6) / Math.max(1, done), failed };
}

async function main() {
  const dir = join(tmpdir(), `keyed-cost-${process.pid}`);
  const stack = await startStack({ brokers: 1, gateways: 0, redisLocal: true, dir, log });
  const gateways: Gateway[] = [];
  try {
    gateways.push(await startGateway("this", HERE, 18_300, stack.kafka, stack.redis as string));
    if (values.base) gateways.push(await startGateway("base", values.base, 18_301, stack.kafka, stack.redis as string));
    const topic = `keyed-cost-${randomUUID().slice(0, 8)}`;
    const created = await fetch(`${gateways[0]?.url}/v3/clusters`).then((r) => r.json());
    const cluster = (created as { data: Array<{ cluster_id: string }> }).data[0]?.cluster_id;
    await fetch(`${gateways[0]?.url}/v3/clusters/${cluster}/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic_name: topic, partitions_count: 3, replication_factor: 1 }),
    });
    for (const g of gateways) await phase(g, topic, 1, false); // warm-up, discarded
    const rows: string[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const records of recordCounts) {
        for (const keyed of keyModes) {
          // Turns alternate who goes first, so neither always meets the machine as the other left it.
          for (const g of round % 2 === 1 ? gateways : [...gateways].reverse()) {
            const r = await phase(g, topic, records, keyed);
            const row = `${round}\t${g.name}\t${records}\t${keyed ? "keyed" : "unkeyed"}\t${r.perSecond.toFixed(0)}\t${r.cpuUsPerRequest.toFixed(0)}\t${r.failed}`;
            log(row);
            rows.push(row);
          }
        }
      }
    }
    process.stdout.write(
      `round\tgateway\trecords\tkey\trequests/s\tgateway CPU µs/request\tfailed\n${rows.join("\n")}\n`,
    );
  } finally {
    for (const g of gateways) g.process.kill("SIGTERM");
    await stopStack(dir).catch(() => {});
  }
}

await main();
