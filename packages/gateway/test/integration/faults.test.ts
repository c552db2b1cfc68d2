/**
 * The fault suite's CI form (`pnpm faults --short`) on the shared stack: a partition leader
 * SIGKILLed and restarted, and a gateway SIGKILLed and restarted, each under a live produce and
 * consume workload through haproxy; then the Redis primary SIGKILLed on a Sentinel stack of its own
 * (three gateways and haproxy on the suite's Kafka). The verdicts come from
 * loadtest/faults/checker.ts over the whole history and the topic read back from Kafka; the
 * nemeses leave every process running and every replica in sync for the files after this one.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type StackInfo, startStack, stopStack } from "../../../../deploy/stack/index.ts";
import type { Verdict } from "../../../../loadtest/faults/checker.ts";
import { runScenario, type ScenarioResult } from "../../../../loadtest/faults/run.ts";
import { findScenario, SCENARIOS } from "../../../../loadtest/faults/scenarios.ts";
import { testGatewayEnv } from "./global-setup.ts";
import { stack } from "./helpers.ts";

/** A leader kill is a bounded outage; with one broker it is the whole cluster, and says nothing. */
const NEEDS_REPLICAS = new Set(["leader-kill"]);

/** FAULTS_HISTORY=DIR keeps each scenario's history and read-back there, for a post-mortem. */
const historyDir = process.env.FAULTS_HISTORY;
delete process.env.FAULTS_HISTORY;

/** The targets of every scenario: nothing acknowledged lost or misplaced, every failure retriable. */
function expectTargets(result: ScenarioResult): Verdict {
  if (historyDir) {
    mkdirSync(historyDir, { recursive: true });
    writeFileSync(join(historyDir, `${result.name}.json`), JSON.stringify(result.evidence));
  }
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
  expect(v.idleAfterFaults, "every consumer instance served reads after the fault").toEqual([]);
  expect(v.recoveryMs).not.toBeNull();
  return v;
}

describe("faults, short form", () => {
  for (const scenario of SCENARIOS.filter((s) => s.short)) {
    it(`${scenario.name}: nothing acknowledged is lost or misplaced, consumers skip nothing, every failure is retriable`, async (ctx) => {
      if (NEEDS_REPLICAS.has(scenario.name) && stack().brokers.length < 3) ctx.skip();
      expectTargets(await runScenario(stack(), scenario, { short: true, log: () => {} }));
    }, 600_000);
  }
});

describe("faults, Redis Sentinel", () => {
  const dir = () => `${stack().dir}-faults-sentinel`;
  // KEEP_TEST_STACK=1 leaves it running (and its logs), like the suite's own stack.
  afterAll(() => (process.env.KEEP_TEST_STACK === "1" ? undefined : stopStack(dir())));

  it("redis-primary-kill: produce never notices, every consumer instance keeps serving", async () => {
    const scenario = findScenario("redis-primary-kill");
    if (!scenario) throw new Error("no redis-primary-kill scenario");
    const sentinelStack: StackInfo = await startStack({
      kafka: stack().kafka,
      gateways: 3,
      lb: true,
      redisSentinel: true,
      gatewayPort: 0,
      gatewayEnv: testGatewayEnv,
      dir: dir(),
      log: () => {},
    });
    const result = await runScenario(sentinelStack, scenario, {
      short: true,
      log: () => {},
      replication: Math.min(stack().brokers.length, 3),
    });
    const v = expectTargets(result);
    // On failure, say when each attempt failed beside when the nemesis acted, and what it was told.
    const timeline = result.evidence.events
      .filter((e) => e.type === "nemesis")
      .map((e) => `${e.phase} ${e.what} at ${Math.round(e.atMs)} ms`);
    const why = JSON.stringify({ timeline, failures: v.examples.produceFailure ?? [] });
    expect(v.produceFailures, `no produce request failed across the failover: ${why}`).toEqual({});
    expect(v.unanswered).toBe(0);
  }, 300_000);
});
