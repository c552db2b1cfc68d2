/**
 * Where a plain librdkafka producer's time goes in the Node binding: the same records produced
 * with per-record delivery reports and no opaque (the benchmark's ceiling), with an object opaque
 * per record (what the gateway passes to find the request a report belongs to), and with no
 * delivery reports at all; and with the object opaque plus the claim header a keyed request's
 * records carry (http/idempotency/record-header.ts). Prints CPU per record of the whole process
 * and of its JS thread.
 *
 *   node loadtest/binding-cost.ts --bootstrap 127.0.0.1:9092 [--records 300000] [--rounds 3] [--variant NAME]...
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import Kafka from "@confluentinc/kafka-javascript";

type RawProducer = InstanceType<typeof Kafka.Producer>;
const VARIANTS = [
  "reports, no opaque",
  "reports, number opaque",
  "reports, object opaque",
  "reports, object opaque, claim header",
  "no reports",
] as const;
type Variant = (typeof VARIANTS)[number];

const { values } = parseArgs({
  options: {
    bootstrap: { type: "string", default: "127.0.0.1:9092" },
    topic: { type: "string", default: "wharf-binding-cost" },
    records: { type: "string", default: "300000" },
    rounds: { type: "string", default: "3" },
    window: { type: "string", default: "20000" },
    variant: { type: "string", multiple: true },
  },
});
const records = Number(values.records);
const window = Number(values.window);
const value = Buffer.alloc(1024, 120);
const claim = randomUUID();

async function connect(reports: boolean): Promise<RawProducer> {
  const producer = new Kafka.Producer({
    "bootstrap.servers": values.bootstrap,
    acks: "all",
    "enable.idempotence": true,
    "linger.ms": 2,
    "queue.buffering.max.messages": 400_000,
    "queue.buffering.max.kbytes": 1_048_576,
    dr_cb: reports,
  } as Kafka.ProducerGlobalConfig);
  await new Promise<void>((resolve, reject) =>
    producer.connect({ timeout: 30_000 }, (error) => (error ? reject(new Error(error.message)) : resolve())),
  );
  producer.setPollInBackground(true);
  return producer;
}

/** Produces `records` records with at most `window` unacknowledged; resolves when all are acked. */
async function run(variant: Variant) {
  const reports = variant !== "no reports";
  const producer = await connect(reports);
  // Warm up: a new idempotent producer holds records until it has a producer id.
  await produceAll(producer, variant, 20_000);
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const startedAt = performance.now();
  await produceAll(producer, variant, records);
  const elapsedMs = performance.now() - startedAt;
  const used = process.cpuUsage(cpu);
  const loop = performance.eventLoopUtilization(elu);
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  return {
    variant,
    recordsPerSec: Math.round(records / (elapsedMs / 1000)),
    processUsPerRecord: ((used.user + used.system) / records).toFixed(2),
    jsThreadUsPerRecord: ((loop.active * 1000) / records).toFixed(2),
  };
}

function produceAll(producer: RawProducer, variant: Variant, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const fill = () => {
      while (sent < count && sent - acked < window) {
        const opaque = variant.startsWith("reports, object opaque")
          ? { batch: null, index: sent }
          : variant === "reports, number opaque"
            ? sent
            : undefined;
        // As the producer pool builds it from writes.ts's header (a string value).
        const headers =
          variant === "reports, object opaque, claim header"
            ? [{ "wharf-idempotency": `${claim}/${sent}` }]
            : undefined;
        try {
          producer.produce(values.topic as string, -1, value, null, null, opaque, headers);
        } catch {
          setTimeout(fill, 1);
          return;
        }
        sent++;
      }
    };
    if (variant === "no reports") {
      // Without reports, completion is a flush after each window.
      const step = () => {
        fill();
        acked = sent;
        producer.flush(30_000, (error) => {
          if (error) return reject(error);
          if (sent >= count) return resolve();
          step();
        });
      };
      return step();
    }
    let refill = false;
    const onReport = () => {
      acked++;
      if (acked === count) {
        producer.removeListener("delivery-report", onReport);
        return resolve();
      }
      if (!refill && sent - acked <= window / 2) {
        refill = true;
        setImmediate(() => {
          refill = false;
          fill();
        });
      }
    };
    producer.on("delivery-report", onReport);
    fill();
  });
}

/** The topic, with the benchmark's 3 partitions; an existing one is used as it is. */
async function ensureTopic() {
  const admin = Kafka.AdminClient.create({ "bootstrap.servers": values.bootstrap as string });
  await new Promise<void>((resolve, reject) =>
    admin.createTopic({ topic: values.topic as string, num_partitions: 3, replication_factor: 1 }, (error) =>
      !error || /already exists/i.test(error.message) ? resolve() : reject(error),
    ),
  );
  admin.disconnect();
}

await ensureTopic();
const variants = (values.variant ?? [...VARIANTS]) as Variant[];
for (const v of variants) if (!VARIANTS.includes(v)) throw new Error(`unknown variant "${v}": ${VARIANTS.join(", ")}`);
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const variant of variants) console.log(JSON.stringify({ round, ...(await run(variant)) }));
}
