/** The consumer stream's cursor logic against a stand-in for ConsumerInstance (no Kafka). */
import type Kafka from "@confluentinc/kafka-javascript";
import { describe, expect, it } from "vitest";
import type {
  ConsumedMessage,
  ConsumerInstance,
  TopicPartition,
  TopicPartitionOffset,
} from "../../kafka/consumer-instance.ts";
import { ConsumerStreamSource } from "./consumer-stream.ts";
import { Cursor } from "./cursor.ts";

const message = (partition: number, offset: number): ConsumedMessage =>
  ({ topic: "t", partition, offset, key: null, value: Buffer.from(String(offset)), size: 1 }) as Kafka.Message;

/** Partitions as logs; reads return what lies at each partition's position, like a consumer. */
class FakeInstance {
  readonly settings = { format: "binary" as const };
  readonly logs = new Map<number, number>();
  readonly position = new Map<number, number>();
  readonly seeks: TopicPartitionOffset[] = [];
  readonly delivered: ConsumedMessage[] = [];
  assigned: TopicPartition[] = [];
  constructor(logEnds: Record<number, number>, committed: Record<number, number>) {
    for (const [p, end] of Object.entries(logEnds)) this.logs.set(Number(p), end);
    for (const [p, offset] of Object.entries(committed)) this.position.set(Number(p), offset);
  }
  assignments() {
    return this.assigned;
  }
  async nextPositions(partitions: TopicPartition[]) {
    return partitions.map((p) => ({ ...p, offset: this.position.get(p.partition) ?? 0 }));
  }
  async seek(offsets: TopicPartitionOffset[]) {
    for (const o of offsets) this.position.set(o.partition, o.offset);
    this.seeks.push(...offsets);
  }
  async readInto(
    _timeoutMs: number,
    _maxBytes: number,
    accept: (
      m: ConsumedMessage[],
    ) =>
      | { taken: number; delivered: ConsumedMessage[] }
      | null
      | Promise<{ taken: number; delivered: ConsumedMessage[] } | null>,
  ) {
    const batch: ConsumedMessage[] = [];
    for (const { partition } of this.assigned) {
      const from = this.position.get(partition) ?? 0;
      for (let o = from; o < (this.logs.get(partition) ?? 0); o++) batch.push(message(partition, o));
    }
    if (batch.length === 0) return;
    const result = await accept(batch);
    if (!result) return;
    for (const m of batch.slice(0, result.taken)) this.position.set(m.partition, m.offset + 1);
    this.delivered.push(...result.delivered);
  }
}

async function pumpAll(source: ConsumerStreamSource) {
  let text = "";
  for (let i = 0; i < 5; i++) {
    await source.pump(50, 1 << 20, (chunk) => {
      text += chunk;
      return true;
    });
  }
  return text;
}

const ids = (text: string) => [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]);
const offsets = (text: string) => [...text.matchAll(/"partition":(\d+),"offset":(\d+)/g)].map((m) => `${m[1]}@${m[2]}`);

describe("consumer stream source", () => {
  it("names every assigned partition before sending any record", async () => {
    const instance = new FakeInstance({ 0: 2, 1: 1 }, { 0: 0, 1: 0 });
    instance.assigned = [
      { topic: "t", partition: 0 },
      { topic: "t", partition: 1 },
    ];
    const text = await pumpAll(new ConsumerStreamSource(instance as unknown as ConsumerInstance, new Cursor()));
    expect(text.startsWith("id: t:0:0,t:1:0\n\n")).toBe(true);
    expect(offsets(text)).toEqual(["0@0", "0@1", "1@0"]);
    expect(ids(text).at(-1)).toBe("t:0:2,t:1:1");
  });

  it("holds back records that come with a new assignment until all its partitions are named", async () => {
    const instance = new FakeInstance({ 0: 2, 1: 2 }, { 0: 0, 1: 1 });
    const assignDuringRead = instance.readInto.bind(instance);
    instance.readInto = async (timeoutMs, maxBytes, accept) => {
      // The rebalance happens inside the read; only partition 0 has records in this batch.
      instance.assigned = [
        { topic: "t", partition: 0 },
        { topic: "t", partition: 1 },
      ];
      return assignDuringRead(timeoutMs, maxBytes, accept);
    };
    const text = await pumpAll(new ConsumerStreamSource(instance as unknown as ConsumerInstance, new Cursor()));
    expect(ids(text)[0]).toBe("t:0:0,t:1:1");
    expect(offsets(text)).toEqual(["0@0", "0@1", "1@1"]);
  });

  it("continues at the Last-Event-ID whether the instance sits behind or ahead of it", async () => {
    // Adopted: partition 0 restarts behind the cursor, partition 1 ahead of it (auto-commit).
    const instance = new FakeInstance({ 0: 6, 1: 6 }, { 0: 1, 1: 5 });
    instance.assigned = [
      { topic: "t", partition: 0 },
      { topic: "t", partition: 1 },
    ];
    const cursor = Cursor.parse("t:0:3,t:1:2");
    const text = await pumpAll(new ConsumerStreamSource(instance as unknown as ConsumerInstance, cursor));
    expect(instance.seeks).toEqual([
      { topic: "t", partition: 0, offset: 3 },
      { topic: "t", partition: 1, offset: 2 },
    ]);
    expect(offsets(text)).toEqual(["0@3", "0@4", "0@5", "1@2", "1@3", "1@4", "1@5"]);
    expect(instance.delivered).toHaveLength(7);
  });

  it("does not send again what it sent when a partition comes back from an older commit", async () => {
    const instance = new FakeInstance({ 0: 3 }, { 0: 0 });
    instance.assigned = [{ topic: "t", partition: 0 }];
    const source = new ConsumerStreamSource(instance as unknown as ConsumerInstance, new Cursor());
    const first = await pumpAll(source);
    instance.position.set(0, 1);
    instance.logs.set(0, 4);
    const second = await pumpAll(source);
    expect([...offsets(first), ...offsets(second)]).toEqual(["0@0", "0@1", "0@2", "0@3"]);
  });

  it("gives every record back when its stream has gone", async () => {
    const instance = new FakeInstance({ 0: 3 }, { 0: 0 });
    instance.assigned = [{ topic: "t", partition: 0 }];
    const source = new ConsumerStreamSource(instance as unknown as ConsumerInstance, new Cursor());
    let calls = 0;
    await source.pump(50, 1 << 20, () => calls++ === 0);
    expect(instance.delivered).toEqual([]);
    expect(instance.position.get(0)).toBe(0);
  });
});
