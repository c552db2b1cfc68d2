/**
 * The 50%-load tail, repeated: what makes one run's 1-record p99 differ from the next.
 *
 * A single 8 s phase's p99 is decided by a handful of stalls, so one run says little about the
 * next. This scenario finds the 1-record saturation once (closed model and ramp, as produce-1),
 * then runs TAIL_ROUNDS rounds at 50% of it (or at --tail-rate), each round three phases at the same rate one after
 * the other: Wharf's v2 1-record produce, the plain producer, and GET /healthz. The healthz phase
 * is the same HTTP load on the same connections without Kafka or produce code: where Wharf's
 * added p99 follows healthz's, the tail is the HTTP path (client, kernel, the gateway's loop),
 * not the produce path. Each phase carries the gateway's GC, its event-loop lag, the generator's
 * lateness and `other CPU`, so a round can be told apart from its neighbours.
 */
import type { Pool } from "undici";
import { emptyCounts, healthzRequest, produceV2Request, type RequestSpec } from "./http-request.ts";
import { createHistogram, summarize } from "./latency.ts";
import { runOpenModel } from "./open-model.ts";
import {
  DRAIN_TIMEOUT_MS,
  MAX_OUTSTANDING,
  MAX_RECORDS,
  MAX_REQUESTS,
  measure,
  type PhaseResult,
  rateAt,
  type ScenarioContext,
} from "./phase.ts";
import { createPlainProducer } from "./plain-producer.ts";
import { CONNECTIONS, closedPhase, gatewayPool, openPhase, rampPhases, sameRateBaseline } from "./scenarios.ts";

/** Rounds of the three phases; each round is 3 phases of the run's --duration. */
export const TAIL_ROUNDS = 5;

export async function tail(ctx: ScenarioContext): Promise<PhaseResult[]> {
  const connections = CONNECTIONS["produce-1"];
  const pool = gatewayPool(ctx.target.gatewayUrl, connections);
  const produce = produceV2Request(ctx.target.topic, ctx.value, 1);
  const healthz = healthzRequest();
  const fraction = ctx.loadFractions[0] ?? 0.5;
  try {
    const max = await closedPhase(ctx, "tail", pool, produce, connections);
    const results: PhaseResult[] = [max];
    let rate = ctx.tailRate ?? 0;
    if (!rate) {
      const ramp = await rampPhases(ctx, "tail", pool, produce, max.requestsPerSec ?? 0, connections);
      rate = rateAt(ramp.saturationPerSec, fraction);
      results.push(...ramp.steps);
    }
    for (let round = 1; round <= TAIL_ROUNDS; round++) {
      const label = (what: string) => `${what}, round ${round}`;
      const slices = ctx.tailSlices ?? 1;
      let wharf: PhaseResult;
      let plain: PhaseResult;
      if (slices > 1) {
        [wharf, plain] = await interleaved(ctx, pool, produce, rate, slices, fraction);
        wharf.label = label(`${produce.label} (${slices} slices)`);
        plain.label = label(`plain producer at the same rate (${slices} slices)`);
      } else {
        wharf = await openPhase(ctx, "tail", pool, produce, rate, {
          label: label(produce.label),
          loadFraction: fraction,
        });
        plain = await sameRateBaseline(ctx, "tail", rate);
        plain.label = label("plain producer at the same rate");
      }
      const empty = await openPhase(ctx, "tail", pool, healthz, rate, {
        label: label(healthz.label),
        loadFraction: fraction,
      });
      for (const p of [wharf, empty]) p.connections = connections;
      results.push(wharf, plain, empty);
      ctx.log(
        `tail: round ${round}: p99 Wharf ${wharf.latencyMs?.p99.toFixed(2)} ms, plain ${plain.latencyMs?.p99.toFixed(2)} ms, ` +
          `healthz ${empty.latencyMs?.p99.toFixed(2)} ms`,
      );
    }
    return results;
  } finally {
    await pool.destroy();
  }
}

/**
 * Wharf's phase and the plain producer's at one rate, cut into `slices` pieces that alternate
 * (Wharf, plain, Wharf, ...) and add up to one --duration each: a drift of the broker or the
 * machine (its recovery after the saturating phases, a JVM collection, a log roll) then lands in
 * both alike instead of in whichever phase ran first. Each side's latency is over all its slices;
 * the process figures (GC, CPU, other CPU) are of the whole alternation, shared by the two.
 */
async function interleaved(
  ctx: ScenarioContext,
  pool: Pool,
  request: RequestSpec,
  rate: number,
  slices: number,
  fraction: number,
): Promise<[PhaseResult, PhaseResult]> {
  const producer = await createPlainProducer(ctx.target.kafka, ctx.target.topic, ctx.value);
  try {
    // A new idempotent producer holds its first records until it has a producer id (as in sameRateBaseline).
    await producer.fixedRate({
      ratePerSec: rate,
      durationMs: ctx.warmupMs,
      maxRecords: MAX_RECORDS,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
    });
    ctx.log(`tail: Wharf and the plain producer alternating, ${slices} slices each at ${rate}/s`);
    const sliceMs = ctx.durationMs / slices;
    const wharfLatency = createHistogram();
    const plainLatency = createHistogram();
    const outcomes = emptyCounts();
    const w = { offered: 0, achieved: 0, shed: 0, unfinished: 0, lag: 0 };
    const p = { offered: 0, achieved: 0, delivered: 0, failed: 0, unfinished: 0, lag: 0 };
    const m = await measure(ctx, async () => {
      for (let i = 0; i < slices; i++) {
        const open = await runOpenModel({
          pool,
          request,
          ratePerSec: rate,
          durationMs: sliceMs,
          maxRequests: MAX_REQUESTS,
          maxOutstanding: MAX_OUTSTANDING,
          drainTimeoutMs: DRAIN_TIMEOUT_MS,
          histogram: wharfLatency,
        });
        for (const k of Object.keys(outcomes) as (keyof typeof outcomes)[]) outcomes[k] += open.outcomes[k];
        w.offered += open.offeredPerSec / slices;
        w.achieved += open.achievedPerSec / slices;
        w.shed += open.shed;
        w.unfinished += open.unfinished;
        w.lag = Math.max(w.lag, open.maxSchedulerLagMs);
        const fixed = await producer.fixedRate({
          ratePerSec: rate,
          durationMs: sliceMs,
          maxRecords: MAX_RECORDS,
          drainTimeoutMs: DRAIN_TIMEOUT_MS,
          histogram: plainLatency,
        });
        p.offered += fixed.offeredPerSec / slices;
        p.achieved += fixed.achievedPerSec / slices;
        p.delivered += fixed.delivered;
        p.failed += fixed.failed;
        p.unfinished += fixed.unfinished;
        p.lag = Math.max(p.lag, fixed.maxSchedulerLagMs);
      }
    });
    const shared = { eventLoopLagP99Ms: m.eventLoopLagP99Ms, gc: m.gc, idleFlushes: m.idleFlushes, stats: m.stats };
    const wharf: PhaseResult = {
      scenario: "tail",
      phase: "fixed-rate",
      label: request.label,
      loadFraction: fraction,
      model: "open",
      recordsPerRequest: request.records,
      connections: null,
      offeredPerSec: w.offered,
      requestsPerSec: w.achieved,
      recordsPerSec: w.achieved * request.records,
      latencyMs: summarize(wharfLatency),
      serviceTimeMs: null,
      counts: { ...outcomes, shed: w.shed, unfinished: w.unfinished },
      maxSchedulerLagMs: w.lag,
      delivery: m.delivery,
      ...shared,
    };
    const plain: PhaseResult = {
      scenario: "tail",
      phase: "same-rate",
      label: "plain producer",
      loadFraction: null,
      model: "open",
      recordsPerRequest: null,
      connections: null,
      offeredPerSec: p.offered,
      requestsPerSec: null,
      recordsPerSec: p.achieved,
      latencyMs: summarize(plainLatency),
      serviceTimeMs: null,
      counts: { ok: p.delivered, failed: p.failed, unfinished: p.unfinished },
      maxSchedulerLagMs: p.lag,
      ...shared,
    };
    return [wharf, plain];
  } finally {
    await producer.close();
  }
}

export interface TailRound {
  round: number;
  wharfP99: number;
  plainP99: number;
  healthzP99: number;
  /** Wharf's p99 over the plain producer's: the figure the 5 ms target is about. */
  addedMs: number;
  /** healthz's p99 over the plain producer's: what the HTTP load alone adds. */
  httpAddedMs: number;
  otherCpu: number;
  gcOver10ms: number | null;
}

/** The rounds of a tail scenario, from its phases (empty without one). */
export function tailRounds(phases: PhaseResult[]): TailRound[] {
  const rounds: TailRound[] = [];
  for (let round = 1; round <= TAIL_ROUNDS; round++) {
    const of = (what: string) =>
      phases.find((p) => p.scenario === "tail" && p.label.startsWith(what) && p.label.endsWith(`, round ${round}`));
    const wharf = of("POST");
    const plain = of("plain producer");
    const empty = of("GET /healthz");
    if (!wharf?.latencyMs || !plain?.latencyMs || !empty?.latencyMs) continue;
    rounds.push({
      round,
      wharfP99: wharf.latencyMs.p99,
      plainP99: plain.latencyMs.p99,
      healthzP99: empty.latencyMs.p99,
      addedMs: wharf.latencyMs.p99 - plain.latencyMs.p99,
      httpAddedMs: empty.latencyMs.p99 - plain.latencyMs.p99,
      otherCpu: Math.max(wharf.stats.otherCpu ?? 0, plain.stats.otherCpu ?? 0, empty.stats.otherCpu ?? 0),
      gcOver10ms: wharf.gc?.over10ms ?? null,
    });
  }
  return rounds;
}
