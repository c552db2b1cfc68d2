/**
 * Recovery of an orphaned claim: a node died after writing some of a keyed request's records and
 * before storing its answer. The retry that takes the claim over (store.ts) reads the topic from
 * shortly before the earliest orphaned claim to its end and collects the records that carry one
 * of those claims' headers (record-header.ts); it then writes only the others (writes.ts).
 *
 * The same look settles a record librdkafka reported delivered without an offset (producer-pool.ts):
 * its partition is read from shortly before the send, for the record's own header (`confirm`).
 */
import type { GatewayConfig } from "../../config.ts";
import { recoveryIncomplete } from "../../errors.ts";
import type { DeliveryResult, ProducerPool } from "../../kafka/producer-pool.ts";
import { ScanLimitError, type ScanLimits, scanTopic } from "../../kafka/topic-scan.ts";
import { CLAIM_HEADER, parseClaimHeader } from "./record-header.ts";
import type { PriorClaim } from "./store.ts";

export interface Recovery {
  /** The records of the `prior` claims already in `topic`, by their index in the request. */
  find(topic: string, prior: PriorClaim[]): Promise<Map<number, DeliveryResult>>;
  /**
   * Which of `claim`'s records `wanted` (index in the request, partition or -1 for any) are in
   * `topic`, reading from `since` (ms since the epoch, before the margin) to the end.
   */
  confirm(
    topic: string,
    claim: string,
    wanted: ReadonlyArray<{ index: number; partition: number }>,
    since: number,
  ): Promise<Map<number, DeliveryResult>>;
}

/**
 * Claim times are Redis's clock, record timestamps the writing node's (CreateTime) or the
 * broker's: the scan starts `clockSkewMs` (idempotency.recovery.clock.skew.ms) earlier so clocks
 * that disagree by less miss nothing. Every record read costs the retry time and counts against
 * max.records, so a deployment whose clocks are kept close can narrow it.
 */
export interface RecoverySettings extends ScanLimits {
  clockSkewMs: number;
}

export function createRecovery(
  config: GatewayConfig,
  producers: Pick<ProducerPool, "partitionCount">,
  settings: RecoverySettings,
): Recovery {
  const { clockSkewMs, ...limits } = settings;
  let scans = 0;
  /** The first record of each (claim, index) accepted by `wants`, by index. */
  const look = async (
    topic: string,
    partitions: number[],
    since: number,
    wants: (claim: string, index: number) => boolean,
  ): Promise<Map<number, DeliveryResult>> => {
    const found = new Map<number, DeliveryResult>();
    const range = { topic, partitions, since, clientId: `wharf-${config.id}-recovery-${++scans}` };
    try {
      await scanTopic(config, range, limits, (message) => {
        for (const header of message.headers ?? []) {
          const value = header[CLAIM_HEADER];
          if (value === undefined) continue;
          const named = parseClaimHeader(value);
          // The first copy counts: a later one is a duplicate that recovery came too late for.
          if (named && wants(named.claim, named.index) && !found.has(named.index)) {
            found.set(named.index, {
              ok: true,
              partition: message.partition,
              offset: message.offset,
              timestamp: message.timestamp ?? null,
            });
          }
        }
      });
    } catch (error) {
      if (error instanceof ScanLimitError) throw recoveryIncomplete(error.message);
      throw error;
    }
    return found;
  };
  const allPartitions = (count: number) => Array.from({ length: count }, (_, p) => p);
  return {
    async find(topic, prior) {
      const count = await producers.partitionCount(topic);
      // No topic: nothing was written (the route answers 404 itself).
      if (count === null || prior.length === 0) return new Map();
      const claims = new Set(prior.map((p) => p.id));
      const since = Math.min(...prior.map((p) => p.claimedAt)) - clockSkewMs;
      return look(topic, allPartitions(count), since, (claim) => claims.has(claim));
    },

    async confirm(topic, claim, wanted, since) {
      if (wanted.length === 0) return new Map();
      const indexes = new Set(wanted.map((w) => w.index));
      let partitions = [...new Set(wanted.map((w) => w.partition))].sort((a, b) => a - b);
      if (partitions.some((p) => p < 0)) {
        const count = await producers.partitionCount(topic);
        if (count === null) return new Map();
        partitions = allPartitions(count);
      }
      return look(topic, partitions, since - clockSkewMs, (c, index) => c === claim && indexes.has(index));
    },
  };
}
