/**
 * Soak: `pnpm soak [--minutes 10] [--rate R] [--fraction 0.7] [--window-s 30]`. Starts its own stack
 * (one broker, three gateways with Redis, haproxy), measures produce saturation briefly (unless
 * --rate gives records/s), then for the whole run keeps up, at once:
 *  - produce at `fraction` of saturation through haproxy (open model, 100 records of 1 KiB a request),
 *  - on a second topic fed at 200 records/s: v2 consumers owned by gw-1, half polled on gw-1 and
 *    half through gw-2 (forwarded), and Server-Sent Events streams of that topic on gw-3,
 * and samples every gateway's RSS, event-loop lag p99 and active handles (from /metrics) and open
 * file descriptors (/proc/PID/fd). Prints a table per window, writes the run as JSON under
 * loadtest/runs/ and an SVG of RSS and p99 over time (loadtest/soak.svg). Loopback only; the run
 * stops by itself after its minutes (and every loop is bounded in count as well).
 */
import { randomBytes } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BalancedPool, Pool, request } from "undici";
import { runClosedModel } from "./closed-model.ts";
import { createV2Instance, deleteV2Instance, seekV2ToEnd } from "./consumers.ts";
import { EVENT_LOOP_LAG_P99, scrapeMetric } from "./gateway-metrics.ts";
import { produceV2Request } from "./http-request.ts";
import { runOpenModel } from "./open-model.ts";
import { processRssBytes } from "./process-stats.ts";
import { openConsumerPollers, openSideProducer, openTopicStreams } from "./soak-load.ts";
import { type SoakRun, type SoakSample, type SoakWindow, soakChart, soakTable } from "./soak-report.ts";
import { clusterId } from "./stream-scenario.ts";
import { defaultStackDir, openTarget } from "./target.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string" },
    fraction: { type: "string", default: "0.7" },
    "window-s": { type: "string", default: "30" },
    consumers: { type: "string", default: "4" },
    streams: { type: "string", default: "4" },
    out: { type: "string", default: join(import.meta.dirname, "soak.svg") },
  },
});
const minutes = Number(values.minutes);
const fraction = Number(values.fraction);
const windowMs = Number(values["window-s"]) * 1000;
if (!(minutes > 0 && minutes <= 120) || !(fraction > 0 && fraction <= 1) || !(windowMs >= 5000)) {
  process.stderr.write("--minutes must be in (0, 120], --fraction in (0, 1], --window-s >= 5\n");
  process.exit(2);
}
const log = (message: string) => process.stderr.write(`[soak] ${message}\n`);

const RECORDS_PER_REQUEST = 100;
const SAMPLE_MS = 5000;
const SIDE_PARTITIONS = 2;
const target = await openTarget({
  kafka: null,
  gateway: null,
  gatewayPid: null,
  partitions: 6,
  gateways: 3,
  stackDir: defaultStackDir(),
  log,
});
const [gw1, gw2, gw3] = target.gateways as [
  (typeof target.gateways)[0],
  (typeof target.gateways)[0],
  (typeof target.gateways)[0],
];
// The stack's processes are detached and would outlive an interrupted run: stop them first.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the stack`);
    target.close().finally(() => process.exit(130));
  });
}
const lb = new Pool(target.lbUrl as string, { connections: 32, pipelining: 1 });
const spread = new BalancedPool(
  target.gateways.map((g) => g.url),
  { connections: 16 },
);
const produceRequest = produceV2Request(target.topic, randomBytes(1024), RECORDS_PER_REQUEST);

try {
  let recordsPerSec = values.rate ? Number(values.rate) : 0;
  let saturationRecordsPerSec: number | null = null;
  if (!recordsPerSec) {
    // The best of three short runs: on a shared machine one run can fall into someone else's burst.
    log("measuring produce saturation: 3 x 8 s (closed model, 16 workers through haproxy)");
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const saturation = await runClosedModel({
        pool: lb,
        request: produceRequest,
        concurrency: 16,
        durationMs: 8000,
        maxRequests: 200_000,
      });
      runs.push(Math.round(saturation.recordsPerSec));
    }
    log(`saturation runs: ${runs.join(", ")} records/s`);
    saturationRecordsPerSec = Math.max(...runs);
    recordsPerSec = Math.round(saturationRecordsPerSec * fraction);
    log(`saturation ${saturationRecordsPerSec} records/s; soaking at ${recordsPerSec} records/s`);
  }
  const requestsPerSec = Math.max(1, recordsPerSec / RECORDS_PER_REQUEST);

  // The readers' topic: every consumer and stream sees each of its records.
  const sideTopic = `${target.topic}-read`;
  const created = await request(`${gw1.url}/v3/clusters/${await clusterId(gw1.url)}/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic_name: sideTopic, partitions_count: SIDE_PARTITIONS }),
  });
  await created.body.dump();
  if (created.statusCode !== 201) throw new Error(`creating ${sideTopic} answered ${created.statusCode}`);

  // Consumers owned by gw-1, starting at the end of the topic (what the soak itself produces).
  const consumerCount = Number(values.consumers);
  const instances = [];
  for (let i = 0; i < consumerCount; i++) {
    const instance = await createV2Instance(gw1.url, sideTopic, SIDE_PARTITIONS);
    await seekV2ToEnd(gw1.url, instance, sideTopic, SIDE_PARTITIONS);
    instances.push(instance);
  }
  const deadline = performance.now() + minutes * 60_000;
  const pollers = openConsumerPollers(
    instances.map((instance, i) => ({ instance, url: i % 2 === 0 ? gw1.url : gw2.url })),
    deadline,
  );
  const streams = openTopicStreams(gw3.url, sideTopic, Number(values.streams), deadline);
  const side = openSideProducer(target.lbUrl as string, sideTopic, 20, 100, deadline);

  const samples: SoakSample[] = [];
  const startedAt = performance.now();
  const sampleOnce = async () => {
    const at = (performance.now() - startedAt) / 1000;
    const gateways = await Promise.all(
      target.gateways.map(async (g) => ({
        rssMiB: g.pid ? (processRssBytes(g.pid) ?? 0) / 2 ** 20 : null,
        fds: g.pid ? countFds(g.pid) : null,
        lagP99Ms: ((await scrapeMetric(g.url, EVENT_LOOP_LAG_P99)) ?? Number.NaN) * 1000,
        handles: await scrapeMetric(g.url, "nodejs_active_handles_total"),
      })),
    );
    samples.push({ atS: at, gateways, loadavg1: loadavg()[0] as number });
  };
  await sampleOnce();
  const sampler = setInterval(() => void sampleOnce(), SAMPLE_MS);

  const windows: SoakWindow[] = [];
  log(`running ${minutes} min in ${windowMs / 1000} s windows`);
  for (let w = 0; performance.now() < deadline && w < 10_000; w++) {
    const duration = Math.min(windowMs, deadline - performance.now());
    if (duration < 1000) break;
    const from = (performance.now() - startedAt) / 1000;
    const consumedBefore = pollers.records();
    const eventsBefore = streams.events();
    const result = await runOpenModel({
      pool: spread,
      request: produceRequest,
      ratePerSec: requestsPerSec,
      durationMs: duration,
      maxRequests: 5_000_000,
      maxOutstanding: 2000, // soak-report.ts names this cap
      drainTimeoutMs: 15_000,
    });
    const window: SoakWindow = {
      fromS: from,
      toS: (performance.now() - startedAt) / 1000,
      produce: result,
      consumedRecords: pollers.records() - consumedBefore,
      streamEvents: streams.events() - eventsBefore,
      sideProduced: side.records(),
      consumerErrors: pollers.errors(),
      streamErrors: streams.errors(),
      sideProduceErrors: side.errors(),
    };
    windows.push(window);
    log(
      `${window.toS.toFixed(0)} s: ${Math.round(result.recordsPerSec)} records/s, p99 ${result.latencyMs?.p99.toFixed(1)} ms, consumed ${window.consumedRecords}, events ${window.streamEvents}`,
    );
  }
  clearInterval(sampler);
  await sampleOnce();
  await Promise.all([pollers.stop(), streams.stop(), side.stop()]);
  for (const instance of instances) await deleteV2Instance(gw1.url, instance);

  const run: SoakRun = {
    startedAt: new Date(Date.now() - (performance.now() - startedAt)).toISOString(),
    minutes,
    saturationRecordsPerSec,
    offeredRecordsPerSec: recordsPerSec,
    recordsPerRequest: RECORDS_PER_REQUEST,
    consumers: consumerCount,
    forwardedConsumers: Math.floor(consumerCount / 2),
    streams: Number(values.streams),
    gateways: target.gateways.map((g) => g.url),
    gatewaySource: target.gatewaySource,
    windows,
    samples,
  };
  const file = join(import.meta.dirname, "runs", `soak-${run.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(run)}\n`);
  writeFileSync(values.out, soakChart(run));
  process.stdout.write(soakTable(run));
  log(`wrote ${file} and ${values.out}`);
} finally {
  await Promise.all([lb.close(), spread.close()]);
  await target.close();
}

function countFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}
