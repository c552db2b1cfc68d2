/**
 * The produce routes' side of Idempotency-Key: how a keyed request's records are sent. Each
 * record carries the claim header (record-header.ts), and records that an orphaned claim's holder
 * already wrote (found by recovery.ts) are not sent again: their result is the record in Kafka,
 * so the answer is the one the dead node would have given. Unkeyed requests send as they are.
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
    const sent = await producers.send(missing, lane);
    for (let j = 0; j < sent.length; j++) results[positions[j] as number] = sent[j] as DeliveryResult;
    return results;
  };
}
