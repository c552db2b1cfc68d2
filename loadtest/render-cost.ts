/**
 * What rendering a v2 binary records answer costs per record, without Kafka or HTTP: batches of
 * messages shaped as the binding hands them over (1 KiB values, no key) rendered by the generic
 * path (an object per record, JSON.stringify, the socket's UTF-8 encoding of that string) and by
 * the gateway's Buffer renderer. Prints CPU µs per record of each.
 *
 *   node loadtest/render-cost.ts [--records 500] [--batches 2000] [--variant both|generic|buffer|none]
 *
 * Under `valgrind --tool=callgrind` (instruction counts, steady on a shared machine), run each
 * variant alone with the same counts and subtract the `none` run (building the messages only).
 */
import { parseArgs } from "node:util";
import { renderBinaryRecords } from "../packages/gateway/src/http/routes/binary-records.ts";
import type { ConsumedMessage } from "../packages/gateway/src/kafka/consumer-instance.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "500" },
    batches: { type: "string", default: "2000" },
    variant: { type: "string", default: "both" },
  },
});
const perBatch = Number(values.records);
const batches = Number(values.batches);

/** One batch as ConsumerInstance.read answers it: the binding's field order, fresh Buffers. */
function batch(first: number): ConsumedMessage[] {
  const out: ConsumedMessage[] = [];
  for (let i = 0; i < perBatch; i++) {
    const value = Buffer.allocUnsafe(1024).fill(first + i);
    out.push({
      value,
      size: value.length,
      key: null,
      topic: "wharf-bench-topic",
      offset: first + i,
      partition: i % 3,
      timestamp: 1_764_000_000_000 + i,
    } as ConsumedMessage);
  }
  return out;
}

/** The generic path: what consumers-v2.ts did for every format before the Buffer renderer. */
function generic(messages: ConsumedMessage[]): Buffer {
  const records = messages.map((m) => ({
    topic: m.topic,
    key: m.key === null || m.key === undefined ? null : Buffer.from(m.key).toString("base64"),
    value: m.value === null ? null : m.value.toString("base64"),
    partition: m.partition,
    offset: m.offset,
  }));
  // The socket write of a string body is this same UTF-8 encoding (writeUtf8String).
  return Buffer.from(JSON.stringify(records));
}

type Render = (messages: ConsumedMessage[]) => Buffer;
const variants: Record<string, Render> = {
  generic,
  buffer: (messages) => renderBinaryRecords(messages, false),
  none: (messages) => Buffer.alloc(messages.length > 0 ? 1 : 0),
};

function measure(name: string, render: Render) {
  let bytes = 0;
  let messagesBuilt = 0;
  let cpuMicros = 0;
  for (let b = 0; b < batches; b++) {
    const messages = batch(b * perBatch);
    messagesBuilt += messages.length;
    const before = process.cpuUsage();
    bytes += render(messages).length;
    const used = process.cpuUsage(before);
    cpuMicros += used.user + used.system;
  }
  const perRecord = cpuMicros / messagesBuilt;
  console.log(
    `${name.padEnd(8)} ${messagesBuilt} records, ${(bytes / messagesBuilt).toFixed(0)} B each, ${perRecord.toFixed(3)} µs CPU per record`,
  );
}

const chosen = values.variant === "both" ? ["generic", "buffer", "generic", "buffer"] : [values.variant as string];
for (const name of chosen) {
  const render = variants[name];
  if (!render) throw new Error(`unknown variant ${name}`);
  measure(name, render);
}
