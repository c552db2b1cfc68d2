/**
 * The smallest reproduction of librdkafka's "implicitly acked" records, with no Wharf in it: a
 * 3-broker KRaft stack, one topic (1 partition, replication 3, min.insync.replicas 2), ONE plain
 * producer with the gateway's producer settings (packages/gateway/src/kafka/librdkafka-config.ts)
 * sending unique values at a fixed rate while the partition leader is SIGKILLed and restarted N
 * times. Every delivery report is kept; at the end the topic is read back and the reports that
 * said "delivered" without an offset are looked up in it: stored (where) or not (lost).
 *
 *   node loadtest/faults/implicit-ack-repro.ts [--kills N] [--rate R] [--partitions P] [--json] [--dir D]
 *
 * The producer never sends a value twice, so a value stored twice is the idempotent producer's
 * own duplicate (expected: none).
 */
import { parseArgs } from "node:util";
import Kafka from "@confluentinc/kafka-javascript";
import { signalBroker, startBroker, startStack, stopStack } from "../../deploy/stack/index.ts";
import { createKafkaView, type KafkaView } from "./kafka-view.ts";

const USAGE = `usage: node loadtest/faults/implicit-ack-repro.ts [--kills N] [--rate R] [--partitions P] [--json] [--dir D]
  --kills  leader kills (default 10)
  --rate   records per second (default 2000)
  --partitions  partitions of the topic (default 1), written in turn; partition 0's leader is killed
  --json   print one JSON line instead of the summary
  --dir    the stack's state directory (default <repo>/.stack-implicit-ack)`;

const TOPIC = "implicit-ack";
/** A restarted broker catching up on a busy 2-core machine; beyond it the run is void. */
const IN_SYNC_TIMEOUT_MS = 120_000;
/** The whole run's bound: per kill, the time to fail over, restart and catch up, at most. */
const PER_KILL_BOUND_MS = 180_000;
/** Records are sent in ticks of this length, rate × tick / 1000 each. */
const TICK_MS = 10;

interface Report {
  /** 0 for success, otherwise librdkafka's error code. */
  code: number;
  offset: number;
  message?: string;
}

/** The gateway's producer properties (librdkafka-config.ts), copied rather than imported. */
function producerConfig(bootstrap: string): Kafka.ProducerGlobalConfig {
  return {
    "bootstrap.servers": bootstrap,
    "client.id": "implicit-ack-repro",
    acks: "all",
    "enable.idempotence": true,
    "linger.ms": 2,
    partitioner: "murmur2_random",
    "message.timeout.ms": 30_000,
    "queue.buffering.max.messages": 100_000,
    "queue.buffering.max.kbytes": 1_048_576,
    dr_cb: true,
  } as Kafka.ProducerGlobalConfig;
}

const callback = <T>(run: (done: (error: { message: string } | null | undefined, value?: T) => void) => void) =>
  new Promise<T>((resolve, reject) =>
    run((error, value) => (error ? reject(new Error(error.message)) : resolve(value as T))),
  );

async function createTopic(bootstrap: string, partitions: number): Promise<void> {
  const admin = Kafka.AdminClient.create({ "bootstrap.servers": bootstrap });
  try {
    await callback<void>((done) =>
      admin.createTopic(
        { topic: TOPIC, num_partitions: partitions, replication_factor: 3, config: { "min.insync.replicas": "2" } },
        30_000,
        done,
      ),
    );
  } finally {
    admin.disconnect();
  }
}

async function leaderOf(view: KafkaView): Promise<number> {
  const leader = (await view.partitions(TOPIC)).find((p) => p.id === 0)?.leader ?? -1;
  if (leader < 0) throw new Error(`${TOPIC}/0 has no leader`);
  return leader;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kills: { type: "string" },
      rate: { type: "string" },
      partitions: { type: "string" },
      json: { type: "boolean" },
      dir: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const kills = Number(values.kills ?? 10);
  const rate = Number(values.rate ?? 2000);
  const partitions = Number(values.partitions ?? 1);
  if (!Number.isInteger(kills) || kills < 1 || !Number.isFinite(rate) || rate <= 0 || !(partitions >= 1)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const log = (message: string) => process.stderr.write(`[implicit-ack] ${message}\n`);
  const dir = values.dir ?? ".stack-implicit-ack";
  const deadline = Date.now() + 120_000 + kills * PER_KILL_BOUND_MS;

  log(`starting 3 brokers in ${dir}`);
  const stack = await startStack({ brokers: 3, gateways: 0, dir, log });
  const stop = () => stopStack(stack.dir);
  const interrupted = () => {
    log("interrupted, stopping the stack");
    stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  let view: KafkaView | null = null;
  let producer: InstanceType<typeof Kafka.Producer> | null = null;
  try {
    await createTopic(stack.kafka, partitions);
    view = await createKafkaView(stack.kafka);
    const fullyInSync = () =>
      (view as KafkaView).waitFor(
        TOPIC,
        (ps) => ps.every((p) => p.leader >= 0 && p.isrs.length === p.replicas.length),
        IN_SYNC_TIMEOUT_MS,
      );
    if (!(await fullyInSync())) throw new Error("the topic's replicas never got in sync");
    await view.endOffsets(TOPIC, 30_000);

    const reports: (Report | undefined)[] = [];
    const p = new Kafka.Producer(producerConfig(stack.kafka));
    producer = p;
    p.on("delivery-report", (error, report) => {
      const index = report.opaque as number;
      reports[index] = error
        ? { code: error.code ?? -1, offset: -1, message: error.message }
        : { code: 0, offset: report.offset };
    });
    p.on("event.error", (error) => log(`producer error: ${error.message}`));
    await callback<void>((done) => p.connect({ timeout: 30_000 }, (e) => done(e)));
    p.setPollInBackground(true);

    // Sending: unique JSON-string values (kafka-view.ts decodes them), a fixed number per tick.
    let sent = 0;
    let queueFull = 0;
    let sending = true;
    const startedAt = performance.now();
    const sender = (async () => {
      while (sending) {
        const due = Math.floor(((performance.now() - startedAt) * rate) / 1000);
        while (sent < due) {
          try {
            p.produce(TOPIC, sent % partitions, Buffer.from(JSON.stringify(`r${sent}`)), null, null, sent);
            sent++;
          } catch {
            // QUEUE_FULL: librdkafka's queue is full (the leader is gone); try again next tick.
            queueFull++;
            break;
          }
        }
        await new Promise((r) => setTimeout(r, TICK_MS));
      }
    })();

    await new Promise((r) => setTimeout(r, 3000));
    for (let round = 1; round <= kills; round++) {
      if (Date.now() > deadline) throw new Error(`the run passed its bound after ${round - 1} kills`);
      const leader = await leaderOf(view);
      await signalBroker(stack, leader, "SIGKILL");
      log(`kill ${round}/${kills}: SIGKILL broker ${leader} (sent ${sent})`);
      const moved = await view.waitFor(
        TOPIC,
        (ps) => {
          const p0 = ps.find((x) => x.id === 0);
          return p0 !== undefined && p0.leader >= 0 && p0.leader !== leader;
        },
        30_000,
      );
      if (!moved) log(`warning: no new leader within 30 s`);
      await startBroker(stack, leader);
      if (!(await fullyInSync())) throw new Error(`broker ${leader} not back in sync`);
      log(`broker ${leader} back in sync`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    sending = false;
    await sender;
    await callback<void>((done) => p.flush(60_000, (e) => done(e)));
    // Every record has its report once flush returns; wait briefly for the last callbacks.
    for (let i = 0; i < 100 && reports.filter(Boolean).length < sent; i++) await new Promise((r) => setTimeout(r, 50));

    log(`reading ${TOPIC} back`);
    const stored = await view.readAll(TOPIC, 120_000);
    /** Where each value is stored, as partition:offset. */
    const where = new Map<string, string[]>();
    for (const record of stored) {
      if (record.value === null) continue;
      const at = where.get(record.value);
      const place = `${record.partition}:${record.offset}`;
      if (at) at.push(place);
      else where.set(record.value, [place]);
    }

    const errors: Record<string, number> = {};
    let withOffset = 0;
    let missingReports = 0;
    const offsetless: { value: string; offsets: string[] }[] = [];
    let ackedButLost = 0;
    let failedButStored = 0;
    for (let i = 0; i < sent; i++) {
      const report = reports[i];
      const value = `r${i}`;
      const offsets = where.get(value) ?? [];
      if (!report) {
        missingReports++;
        continue;
      }
      if (report.code !== 0) {
        const key = `${report.code} ${report.message ?? ""}`.trim();
        errors[key] = (errors[key] ?? 0) + 1;
        if (offsets.length > 0) failedButStored++;
        continue;
      }
      if (report.offset >= 0) {
        withOffset++;
        if (offsets.length === 0) ackedButLost++;
        continue;
      }
      offsetless.push({ value, offsets });
    }
    const storedTwice = [...where].filter(([, at]) => at.length > 1).map(([value, at]) => ({ value, offsets: at }));
    const result = {
      kills,
      rate,
      partitions,
      sent,
      queueFullRetries: queueFull,
      reportsWithOffset: withOffset,
      successWithoutOffset: offsetless.length,
      withoutOffsetStored: offsetless.filter((o) => o.offsets.length > 0),
      withoutOffsetLost: offsetless.filter((o) => o.offsets.length === 0).map((o) => o.value),
      errorsByCode: errors,
      failedButStored,
      ackedWithOffsetButLost: ackedButLost,
      missingReports,
      storedRecords: stored.length,
      storedTwice,
      seconds: Math.round((performance.now() - startedAt) / 1000),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const lines = [
        `records sent                     ${result.sent} at ${rate}/s over ${result.seconds} s, ${kills} leader kills`,
        `reports with an offset           ${result.reportsWithOffset}`,
        `success without offset           ${result.successWithoutOffset}`,
        `  of which in the topic          ${result.withoutOffsetStored.length}${result.withoutOffsetStored.map((o) => ` ${o.value}@${o.offsets.join("+")}`).join("")}`,
        `  of which NOT in the topic      ${result.withoutOffsetLost.length}${result.withoutOffsetLost.map((v) => ` ${v}`).join("")}`,
        `errors by code                   ${JSON.stringify(result.errorsByCode)}`,
        `  failed but stored anyway       ${result.failedButStored}`,
        `acked with offset but not stored ${result.ackedWithOffsetButLost}`,
        `no report at all                 ${result.missingReports}`,
        `values stored twice (no retry)   ${result.storedTwice.length}${result.storedTwice.map((o) => ` ${o.value}@${o.offsets.join("+")}`).join("")}`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return 0;
  } finally {
    producer?.disconnect();
    await view?.close();
    await stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`[implicit-ack] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
