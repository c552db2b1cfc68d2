/**
 * Reading a bounded stretch of a topic once: every partition from its first record at or after
 * a timestamp up to the end it had when the scan began. Bounded in time and in records, since a
 * busy topic may hold more since then than is worth reading; past either bound the scan fails
 * rather than return a partial view that a caller could mistake for the whole.
 */
import type { GatewayConfig } from "../config.ts";
import type { ConsumedMessage } from "./consumer-instance.ts";
import { TopicStream } from "./topic-stream.ts";

export interface ScanLimits {
  maxRecords: number;
  timeoutMs: number;
}

export interface ScanRange {
  topic: string;
  partitions: number[];
  /** Milliseconds since the epoch (record timestamps, as ListOffsets compares them). */
  since: number;
  clientId: string;
}

/** The scan would have read more records, or taken longer, than its limits allow. */
export class ScanLimitError extends Error {
  override name = "ScanLimitError";
}

const TAKE_BYTES = 1024 * 1024;
const TAKE_WAIT_MS = 200;

/** Calls `visit` with each record in the range, in each partition's order. */
export async function scanTopic(
  config: GatewayConfig,
  range: ScanRange,
  limits: ScanLimits,
  visit: (message: ConsumedMessage) => void,
): Promise<void> {
  const deadline = Date.now() + limits.timeoutMs;
  const stream = await TopicStream.open(config, {
    topic: range.topic,
    partitions: range.partitions,
    from: { kind: "timestamp", ms: range.since },
    resume: new Map(),
    clientId: range.clientId,
    // Connecting and the offset lookups count against the scan's time too.
    kafkaTimeoutMs: limits.timeoutMs,
  });
  try {
    const ends = await stream.ends();
    const next = new Map(stream.start);
    const unread = () => range.partitions.some((p) => (next.get(p) ?? 0) < (ends.get(p) ?? 0));
    let seen = 0;
    while (unread()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new ScanLimitError(`the scan took longer than ${limits.timeoutMs} ms`);
      for (const message of await stream.take(Math.min(left, TAKE_WAIT_MS), TAKE_BYTES)) {
        // Written after the scan began: not what it looks for, and the partition may never end.
        if (message.offset >= (ends.get(message.partition) ?? 0)) continue;
        next.set(message.partition, message.offset + 1);
        if (++seen > limits.maxRecords) throw new ScanLimitError(`more than ${limits.maxRecords} records to read`);
        visit(message);
      }
    }
  } finally {
    await stream.close();
  }
}
