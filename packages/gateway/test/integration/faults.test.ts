/**
 * The fault suite's CI form (`pnpm faults --short`) on the shared stack: a partition leader
 * SIGKILLed and restarted, and a gateway SIGKILLed and restarted, each under a live produce and
 * consume workload through haproxy. The verdicts come from loadtest/faults/checker.ts over the
 * whole history and the topic read back from Kafka; the nemeses leave every process running and
 * every replica in sync for the files after this one.
 */
import { describe, expect, it } from "vitest";
import { runScenario } from "../../../../loadtest/faults/run.ts";
import { SCENARIOS } from "../../../../loadtest/faults/scenarios.ts";
import { stack } from "./helpers.ts";

/** A leader kill is a bounded outage; with one broker it is the whole cluster, and says nothing. */
const NEEDS_REPLICAS = new Set(["leader-kill"]);

describe("faults, short form", () => {
  for (const scenario of SCENARIOS.filter((s) => s.short)) {
    it(`${scenario.name}: nothing acknowledged is lost or misplaced, consumers skip nothing, every failure is retriable`, async (ctx) => {
      if (NEEDS_REPLICAS.has(scenario.name) && stack().brokers.length < 3) ctx.skip();
      const result = await runScenario(stack(), scenario, { short: true, log: () => {} });
      const v = result.verdict;
      const examples = JSON.stringify(v.examples);
      expect(result.error, examples).toBeNull();
      expect(result.drained, "consumers caught up with the topic").toBe(true);
      expect(v.faults).toBeGreaterThan(0);
      expect(v.acknowledged).toBeGreaterThan(0);
      expect(v.lost, examples).toBe(0);
      expect(v.wrongOffsets, examples).toBe(0);
      expect(v.duplicates - v.duplicatesFromRetries, examples).toBe(0);
      expect(v.skips, examples).toBe(0);
      expect(v.reorders, examples).toBe(0);
      expect(v.misdelivered, examples).toBe(0);
      expect(v.nonRetriableErrors, examples).toBe(0);
      expect(v.consumerNonRetriableErrors, examples).toBe(0);
      expect(v.recoveryMs).not.toBeNull();
    }, 600_000);
  }
});
