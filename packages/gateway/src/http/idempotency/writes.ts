/**
 * The produce routes' side of Idempotency-Key: how a keyed request's records are sent. Each
 * record carries the claim header (record-header.ts), and records that an orphaned claim's holder
 * already wrote (found by recovery.ts) are not sent again: their result is the record in Kafka,
 * so the answer is the one the dead node would have given. Unkeyed requests send as they are.
 *
 * A keyed record that librdkafka reported delivered without an offset (producer-pool.ts) is looked
 * for by its header before the answer is given: found, it is answered as written, with its real
 * partition and offset; not found (or the look failed), it keeps the retriable 50003, and the
 * retry writes it once. An unkeyed record has no header to look for, so it keeps the 50003: a
 * retry may then store it twice, which is better than telling the client it was stored when it
 * was not (the inference has been seen wrong).
 *
 * Nothing is handed to librdkafka unless the request can show, right then and synchronously, that
 * its claim is still its own (KeyedWrites.fence, middleware.ts): a node paused past its lease
 * wakes up to a 503, not to a second copy of what the retry elsewhere wrote meanwhile.
 */
import type { Context } from "hono";
import type { DeliveryResult, OutgoingRecord, ProducerPool } from "../../kafka/producer-pool.ts";
import type { RequestEnv } from "../body.ts";
import { CLAIM_HEADER, claimHeaderValue } from "./record-header.ts";

/** What the middleware leaves on the request env for a keyed request (RequestEnv.writes). */
export interface KeyedWrites {
  claim: string;
  /** Records of earlier claims already in Kafka, by index in the request. */
  found: ReadonlyMap<number, DeliveryResult>;
  /** This claim's records `wanted` found in `topic` since `since` (Recovery.confirm). */
  confirm(
    topic: string,
    wanted: ReadonlyArray<{ index: number; partition: number }>,
    since: number,
  ): Promise<ReadonlyMap<number, DeliveryResult>>;
  /** Throws 503 / 50003 unless the claim is provably held now; called right before each send. */
  fence(): void;
  /** Tests only: holds each send between the claim and the fence (GatewayOptions.holdKeyedWrite). */
  hold?: () => Promise<void>;
}

/**
 * Sends records `first`, `first + 1`, ... of the request (indexes in the request, not in this
 * call), resolving with one result per record, in order; see ProducerPool.send for `lane`.
 */
export type SendRecords = (records: OutgoingRecord[], first: number, lane?: number) => Promise<DeliveryResult[]>;

export function sendRecords(c: Context, producers: ProducerPool): SendRecords {
  const writes = (c.env as RequestEnv | undefined)?.writes;
  if (!writes) return (records, _first, lane) => producers.send(records, lane);
  return async (records, first, lane) => {
    const results: DeliveryResult[] = new Array(records.length);
    const missing: OutgoingRecord[] = [];
    const positions: number[] = [];
    for (let i = 0; i < records.length; i++) {
      const found = writes.found.get(first + i);
      if (found) {
        results[i] = found;
        continue;
      }
      const record = records[i] as OutgoingRecord;
      const header = { name: CLAIM_HEADER, value: claimHeaderValue(writes.claim, first + i) };
      missing.push({ ...record, headers: record.headers ? [...record.headers, header] : [header] });
      positions.push(i);
    }
    if (missing.length === 0) return results;
    if (writes.hold) await writes.hold();
    // Nothing may run between the fence and the send: producers.send hands the records to
    // librdkafka synchronously.
    writes.fence();
    // Where a look for an unconfirmed record starts: before the send (and see below).
    const sentAt = Date.now();
    const sent = await producers.send(missing, lane);
    /** Per topic, the unconfirmed records by their place in this call (`at`; `first + at` in the request). */
    const unconfirmed = new Map<string, Array<{ at: number; partition: number }>>();
    for (let j = 0; j < sent.length; j++) {
      const result = sent[j] as DeliveryResult;
      const at = positions[j] as number;
      results[at] = result;
      if (result.ok || !result.unconfirmed) continue;
      const topic = (missing[j] as OutgoingRecord).topic;
      const list = unconfirmed.get(topic) ?? [];
      list.push({ at, partition: result.unconfirmed.partition });
      unconfirmed.set(topic, list);
    }
    if (unconfirmed.size === 0) return results;
    // ... and before any timestamp the request set itself (CreateTime is what the look compares).
    let since = sentAt;
    for (const record of missing) if (record.timestamp != null && record.timestamp < since) since = record.timestamp;
    for (const [topic, wanted] of unconfirmed) {
      let found: ReadonlyMap<number, DeliveryResult>;
      try {
        found = await writes.confirm(
          topic,
          wanted.map(({ at, partition }) => ({ index: first + at, partition })),
          since,
        );
      } catch {
        // The look failed or hit its bounds: the 50003 stands, and the retry writes the record.
        continue;
      }
      for (const { at } of wanted) {
        const stored = found.get(first + at);
        if (stored) results[at] = stored;
      }
    }
    return results;
  };
}
