/**
 * The ceiling: a plain librdkafka producer in this process, configured like the gateway's own
 * (packages/gateway/src/kafka/librdkafka-config.ts with default settings), writing straight to
 * Kafka. Whatever Wharf adds on top of this is HTTP, JSON, base64 and bookkeeping.
 */
import Kafka from "@confluentinc/kafka-javascript";
import { createHistogram, type Histogram, type LatencySummary, recordMs, summarize } from "./latency.ts";
import { runAtConstantRate } from "./schedule.ts";

type RawProducer = InstanceType<typeof Kafka.Producer>;
type ReportHandler = (failed: boolean, opaque: unknown) => void;

export interface MaxThroughputOptions {
  durationMs: number;
  maxRecords: number;
  /** Records queued but not yet acknowledged, at most: a bounded window, not an unbounded flood. */
  window: number;
  drainTimeoutMs: number;
}

export interface MaxThroughputResult {
  window: number;
  elapsedS: number;
  delivered: number;
  failed: number;
  recordsPerSec: number;
}

export interface FixedRateOptions {
  ratePerSec: number;
  durationMs: number;
  maxRecords: number;
  drainTimeoutMs: number;
  /** Latencies go here (summarized over everything it holds) instead of into a fresh histogram. */
  histogram?: Histogram;
}

export interface FixedRateResult {
  offeredPerSec: number;
  achievedPerSec: number;
  delivered: number;
  failed: number;
  unfinished: number;
  /** From the record's intended produce() time to its delivery report. */
  latencyMs: LatencySummary | null;
  maxSchedulerLagMs: number;
}

export interface LoneOptions {
  durationMs: number;
  maxRecords: number;
}

export interface LoneResult {
  delivered: number;
  failed: number;
  /** From each produce() call to its delivery report; the next record is produced after it. */
  latencyMs: LatencySummary | null;
}

export interface PlainProducer {
  maxThroughput(options: MaxThroughputOptions): Promise<MaxThroughputResult>;
  fixedRate(options: FixedRateOptions): Promise<FixedRateResult>;
  /** One record at a time: produce, wait for its report, produce the next. */
  lone(options: LoneOptions): Promise<LoneResult>;
  close(): Promise<void>;
}

/** The gateway's producer settings (librdkafka-config.ts) with Wharf's default limits filled in. */
function properties(bootstrap: string, overrides: Record<string, string | number>): Kafka.ProducerGlobalConfig {
  return {
    "bootstrap.servers": bootstrap,
    "client.id": "wharf-bench-plain-producer",
    acks: "all",
    "enable.idempotence": true,
    "linger.ms": 2,
    "message.timeout.ms": 30_000,
    "queue.buffering.max.messages": 400_000,
    "queue.buffering.max.kbytes": 1_048_576,
    ...overrides,
    dr_cb: true,
  } as Kafka.ProducerGlobalConfig;
}

/** Wall-clock milliseconds (fractional) of a performance.now() time: a key other processes can read. */
export const stampOf = (at: number) => Buffer.from(String(performance.timeOrigin + at));

/**
 * With `stampKeys`, each fixed-rate record's key is its intended produce time (stampOf), so a
 * consumer in this process can measure end-to-end latency from it.
 */
export async function createPlainProducer(
  bootstrap: string,
  topic: string,
  value: Buffer,
  options: { stampKeys?: boolean; overrides?: Record<string, string | number> } = {},
): Promise<PlainProducer> {
  const producer: RawProducer = new Kafka.Producer(properties(bootstrap, options.overrides ?? {}));
  let onReport: ReportHandler = () => {};
  producer.on("delivery-report", (error, report) => onReport(Boolean(error), report.opaque));
  await new Promise<void>((resolve, reject) => {
    producer.connect({ timeout: 30_000 }, (error) => (error ? reject(new Error(error.message)) : resolve()));
  });
  // As in the gateway: reports are polled on librdkafka's thread, not on a JS timer.
  producer.setPollInBackground(true);

  /** False when librdkafka refused the record locally (queue full); the caller waits and retries. */
  const produce = (opaque: unknown): boolean => {
    try {
      const key = options.stampKeys && typeof opaque === "number" ? stampOf(opaque) : null;
      producer.produce(topic, -1, value, key, null, opaque);
      return true;
    } catch {
      return false;
    }
  };

  return {
    maxThroughput: (options) => maxThroughput(options, produce, (h) => (onReport = h)),
    fixedRate: (options) => fixedRate(options, produce, (h) => (onReport = h)),
    lone: (options) => lone(options, produce, (h) => (onReport = h)),
    close: () =>
      new Promise<void>((resolve) => {
        producer.flush(10_000, () => {
          producer.setPollInBackground(false);
          producer.disconnect(() => resolve());
        });
      }),
  };
}

function maxThroughput(
  options: MaxThroughputOptions,
  produce: (opaque: unknown) => boolean,
  listen: (handler: ReportHandler) => void,
): Promise<MaxThroughputResult> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const stopAt = startedAt + options.durationMs;
    let sent = 0;
    let inflight = 0;
    let delivered = 0;
    let failed = 0;
    let lastReportAt = startedAt;
    let refillPending = false;
    let done = false;

    const sending = () => sent < options.maxRecords && performance.now() < stopAt;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(drainTimer);
      listen(() => {});
      const elapsedS = (lastReportAt - startedAt) / 1000;
      resolve({ window: options.window, elapsedS, delivered, failed, recordsPerSec: delivered / elapsedS });
    };
    const fill = () => {
      refillPending = false;
      while (inflight < options.window && sending()) {
        // Reading the clock once per record would cost more than producing; check it per chunk.
        const chunk = Math.min(options.window - inflight, 1000, options.maxRecords - sent);
        for (let i = 0; i < chunk; i++) {
          if (!produce(undefined)) {
            if (inflight === 0) setTimeout(fill, 5);
            return;
          }
          sent++;
          inflight++;
        }
      }
      if (!sending() && inflight === 0) finish();
    };
    listen((isFailure) => {
      inflight--;
      if (isFailure) failed++;
      else delivered++;
      lastReportAt = performance.now();
      if (!sending()) {
        if (inflight === 0) finish();
      } else if (!refillPending && inflight <= options.window / 2) {
        // Reports arrive in bursts; refill once per burst rather than once per report.
        refillPending = true;
        setImmediate(fill);
      }
    });
    const drainTimer = setTimeout(finish, options.durationMs + options.drainTimeoutMs);
    fill();
  });
}

async function fixedRate(
  options: FixedRateOptions,
  produce: (opaque: unknown) => boolean,
  listen: (handler: ReportHandler) => void,
): Promise<FixedRateResult> {
  const histogram = options.histogram ?? createHistogram();
  let inflight = 0;
  let delivered = 0;
  let failed = 0;
  let lastReportAt = 0;
  let onIdle: (() => void) | null = null;
  const unsent: number[] = [];
  listen((isFailure, opaque) => {
    // A straggler from an earlier phase that gave up waiting carries no intended time.
    if (typeof opaque !== "number") return;
    lastReportAt = performance.now();
    recordMs(histogram, lastReportAt - (opaque as number));
    inflight--;
    if (isFailure) failed++;
    else delivered++;
    if (inflight === 0) onIdle?.();
  });

  const schedule = await runAtConstantRate({
    ratePerSec: options.ratePerSec,
    durationMs: options.durationMs,
    maxEvents: options.maxRecords,
    fire: (dueAt) => {
      // The opaque is the intended time: latency includes any lateness of this process too.
      if (produce(dueAt)) inflight++;
      else unsent.push(dueAt);
    },
  });
  const scheduleEnd = performance.now();
  if (inflight > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.drainTimeoutMs);
      onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  listen(() => {});
  const unfinished = inflight;
  const elapsedS = (Math.max(lastReportAt, scheduleEnd) - schedule.startedAt) / 1000;
  return {
    offeredPerSec: schedule.fired / ((scheduleEnd - schedule.startedAt) / 1000),
    achievedPerSec: delivered / elapsedS,
    delivered,
    failed: failed + unsent.length,
    unfinished,
    latencyMs: summarize(histogram),
    maxSchedulerLagMs: schedule.maxLagMs,
  };
}

function lone(
  options: LoneOptions,
  produce: (opaque: unknown) => boolean,
  listen: (handler: ReportHandler) => void,
): Promise<LoneResult> {
  return new Promise((resolve) => {
    const histogram = createHistogram();
    const stopAt = performance.now() + options.durationMs;
    let delivered = 0;
    let failed = 0;
    let sentAt = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(drainTimer);
      listen(() => {});
      resolve({ delivered, failed, latencyMs: summarize(histogram) });
    };
    const next = () => {
      if (delivered + failed >= options.maxRecords || performance.now() >= stopAt) return finish();
      sentAt = performance.now();
      // A local refusal (queue full) cannot happen with one record queued; count it and stop.
      if (!produce(undefined)) {
        failed++;
        return finish();
      }
    };
    listen((isFailure) => {
      recordMs(histogram, performance.now() - sentAt);
      if (isFailure) failed++;
      else delivered++;
      next();
    });
    // A report that never comes must not hold the run: give up a while after the phase's end.
    const drainTimer = setTimeout(finish, options.durationMs + 30_000);
    next();
  });
}
