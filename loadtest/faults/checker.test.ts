import { describe, expect, it } from "vitest";
import { check } from "./checker.ts";
import type { HistoryEvent, ProduceAttempt, RecordResult, StoredRecord } from "./history.ts";

let clock = 0;
const tick = () => ++clock;

/** One produce attempt answered 200 with the given per-record results. */
function answered(request: string, results: RecordResult[], attempt = 1): ProduceAttempt {
  const startMs = tick();
  return {
    type: "produce",
    request,
    attempt,
    idempotencyKey: `key-${request}`,
    api: "v2",
    values: results.map((r) => r.value),
    startMs,
    endMs: tick(),
    answer: { kind: "answer", status: 200, errorCode: null, records: results },
  };
}

const ok = (value: string, partition: number, offset: number): RecordResult => ({ value, ok: true, partition, offset });

function noAnswer(request: string, values: string[], attempt = 1): ProduceAttempt {
  const startMs = tick();
  return {
    type: "produce",
    request,
    attempt,
    idempotencyKey: `key-${request}`,
    api: "v3",
    values,
    startMs,
    endMs: tick(),
    answer: { kind: "none", error: "other side closed", sent: true },
  };
}

function failed(request: string, values: string[], status: number): ProduceAttempt {
  const startMs = tick();
  return {
    type: "produce",
    request,
    attempt: 1,
    idempotencyKey: `key-${request}`,
    api: "v2-batch",
    values,
    startMs,
    endMs: tick(),
    answer: { kind: "answer", status, errorCode: status * 100 + 3, records: [] },
  };
}

const read = (instance: string, records: Array<[number, number, string]>): HistoryEvent => {
  const startMs = tick();
  return {
    type: "read",
    instance,
    startMs,
    endMs: tick(),
    records: records.map(([partition, offset, value]) => ({ partition, offset, value })),
  };
};

const commit = (instance: string, positions: Record<number, number>): HistoryEvent => {
  const startMs = tick();
  return { type: "commit", instance, startMs, endMs: tick(), positions };
};

const topic = (...records: Array<[number, number, string | null]>): StoredRecord[] =>
  records.map(([partition, offset, value]) => ({ partition, offset, value }));

/** A clean run: three values produced, consumed, committed. */
function cleanHistory(): { events: HistoryEvent[]; stored: StoredRecord[] } {
  return {
    events: [
      answered("r1", [ok("a", 0, 0), ok("b", 0, 1)]),
      answered("r2", [ok("c", 1, 0)]),
      read("c1", [
        [0, 0, "a"],
        [0, 1, "b"],
      ]),
      read("c2", [[1, 0, "c"]]),
      commit("c1", { 0: 2, 1: 1 }),
    ],
    stored: topic([0, 0, "a"], [0, 1, "b"], [1, 0, "c"]),
  };
}

describe("fault checker", () => {
  it("finds nothing in a clean history", () => {
    const { events, stored } = cleanHistory();
    const verdict = check(events, stored);
    expect(verdict).toMatchObject({
      requests: 2,
      attempts: 2,
      acknowledged: 3,
      lost: 0,
      wrongOffsets: 0,
      duplicates: 0,
      duplicatesFromRetries: 0,
      retriableErrors: 0,
      nonRetriableErrors: 0,
      unanswered: 0,
      consumed: 3,
      skips: 0,
      reorders: 0,
      misdelivered: 0,
      commitRegressions: 0,
      foreign: 0,
    });
    expect(verdict.examples).toEqual({});
  });

  it("counts an acknowledged value missing from the topic as lost", () => {
    const { events } = cleanHistory();
    const verdict = check(events, topic([0, 0, "a"], [1, 0, "c"]));
    expect(verdict.lost).toBe(1);
    expect(verdict.wrongOffsets).toBe(0);
    expect(verdict.examples.lost?.[0]).toContain("b acknowledged at 0/1");
  });

  it("counts a value stored away from its acknowledged offset as a wrong offset", () => {
    const { events } = cleanHistory();
    const verdict = check(events, topic([0, 0, "b"], [0, 1, "a"], [1, 0, "c"]));
    expect(verdict.wrongOffsets).toBe(2);
    expect(verdict.lost).toBe(0);
  });

  it("tells duplicates from client retries apart from duplicates of values sent once", () => {
    const events: HistoryEvent[] = [
      noAnswer("r1", ["a"]),
      answered("r1", [ok("a", 0, 1)], 2),
      answered("r2", [ok("b", 0, 2)]),
    ];
    const stored = topic([0, 0, "a"], [0, 1, "a"], [0, 2, "b"], [0, 3, "b"], [0, 4, "b"]);
    const verdict = check(events, stored);
    expect(verdict.duplicates).toBe(3);
    expect(verdict.duplicatesFromRetries).toBe(1);
    expect(verdict.unanswered).toBe(1);
    expect(verdict.examples.duplicates?.[0]).toBe("b at 0/2, 0/3, 0/4");
  });

  it("separates failures a client can retry from those it cannot", () => {
    const events: HistoryEvent[] = [
      failed("r1", ["a"], 503),
      failed("r2", ["b"], 500),
      answered("r3", [
        { value: "c", ok: false, errorCode: 50003 },
        { value: "d", ok: false, errorCode: 50002 },
      ]),
      {
        ...noAnswer("r4", ["e"]),
        answer: { kind: "none", error: "connect ECONNREFUSED", sent: false },
      },
    ];
    const verdict = check(events, []);
    expect(verdict.retriableErrors).toBe(3);
    expect(verdict.nonRetriableErrors).toBe(2);
    expect(verdict.unanswered).toBe(0);
    expect(verdict.acknowledged).toBe(0);
  });

  it("finds a record below the committed position that no instance got", () => {
    const { stored } = cleanHistory();
    const events: HistoryEvent[] = [read("c1", [[0, 0, "a"]]), commit("c1", { 0: 2 })];
    const verdict = check(events, stored);
    expect(verdict.skips).toBe(1);
    expect(verdict.examples.skips?.[0]).toContain("0/1 (b)");
  });

  it("allows redelivery after the last commit but not before it", () => {
    const { stored } = cleanHistory();
    const allowed = check(
      [read("c1", [[0, 0, "a"]]), commit("c1", { 0: 1 }), read("c1", [[0, 1, "b"]]), read("c2", [[0, 1, "b"]])],
      stored,
    );
    expect(allowed).toMatchObject({ redelivered: 1, reorders: 0, skips: 0 });

    const replayed = check([read("c1", [[0, 0, "a"]]), commit("c1", { 0: 1 }), read("c2", [[0, 0, "a"]])], stored);
    expect(replayed.reorders).toBe(1);
  });

  it("notices a committed position that moved back", () => {
    const { stored } = cleanHistory();
    const verdict = check([commit("c1", { 0: 2 }), commit("c2", { 0: 1 }), commit("c1", { 0: 2 })], stored);
    expect(verdict.commitRegressions).toBe(1);
    expect(verdict.examples.commitRegressions?.[0]).toContain("partition 0 committed at 1, earlier 2");
  });

  it("does not call a committed position lower than an overlapping observation a regression", () => {
    const { stored } = cleanHistory();
    // c2 asked before c1's answer arrived: Kafka may have answered c2 before c1 committed.
    const overlapping: HistoryEvent[] = [
      { type: "commit", instance: "c2", startMs: 10, endMs: 40, positions: { 0: 1 } },
      { type: "commit", instance: "c1", startMs: 15, endMs: 20, positions: { 0: 2 } },
    ];
    expect(check(overlapping, stored).commitRegressions).toBe(0);
  });

  it("tallies failures, the longest consumer outage and instances that served nothing after a fault", () => {
    const { stored } = cleanHistory();
    const failure = (instance: string, startMs: number, status: number): HistoryEvent => ({
      type: "consume-error",
      instance,
      operation: "read",
      startMs,
      endMs: startMs + 5,
      status,
      errorCode: status === 0 ? null : 50301,
      message: "Redis is unavailable",
    });
    const at = (instance: string, startMs: number): HistoryEvent => ({
      type: "read",
      instance,
      startMs,
      endMs: startMs + 10,
      records: [],
    });
    const events: HistoryEvent[] = [
      at("c1", 0),
      at("c2", 0),
      { type: "nemesis", phase: "inject", what: "kill redis", atMs: 100 },
      failure("c1", 110, 503),
      failure("c1", 200, 503),
      failure("c2", 150, 0),
      at("c2", 160),
      { type: "nemesis", phase: "heal", what: "redis back", atMs: 250 },
      at("c1", 300),
      failed("r1", ["x"], 503),
    ];
    const verdict = check(events, stored);
    expect(verdict.consumerFailures).toEqual({ "read 503/50301": 2, "read 0": 1 });
    // c1 failed from 110 until its read ended at 310.
    expect(verdict.consumerOutageMs).toBe(200);
    expect(verdict.idleAfterFaults).toEqual(["c2"]);
    expect(verdict.produceFailures).toEqual({ "503/50303": 1 });
  });

  it("counts a partition going backwards inside one answer as a reorder", () => {
    const { stored } = cleanHistory();
    const verdict = check(
      [
        read("c1", [
          [0, 1, "b"],
          [0, 0, "a"],
        ]),
      ],
      stored,
    );
    expect(verdict.reorders).toBe(1);
  });

  it("flags a delivered value that is not what Kafka holds there", () => {
    const { stored } = cleanHistory();
    expect(check([read("c1", [[0, 0, "z"]])], stored).misdelivered).toBe(1);
  });

  it("measures recovery from each fault to the first success sent after it", () => {
    const events: HistoryEvent[] = [];
    events.push({ ...answered("r0", [ok("a", 0, 0)]), startMs: 1, endMs: 2 });
    events.push({ type: "nemesis", phase: "inject", what: "kill broker 1", atMs: 100 });
    events.push({ ...failed("r1", ["b"], 503), startMs: 101, endMs: 150 });
    events.push({ ...answered("r2", [ok("b", 0, 1)]), startMs: 160, endMs: 340 });
    events.push({ type: "read", instance: "c1", startMs: 120, endMs: 200, records: [] });
    events.push({
      type: "read",
      instance: "c1",
      startMs: 200,
      endMs: 230,
      records: [{ partition: 0, offset: 0, value: "a" }],
    });
    const verdict = check(events, topic([0, 0, "a"], [0, 1, "b"]));
    expect(verdict.faults).toBe(1);
    expect(verdict.recoveryMs).toBe(240);
    expect(verdict.consumeRecoveryMs).toBe(130);
  });

  it("reports no recovery when nothing succeeded after a fault", () => {
    const events: HistoryEvent[] = [
      answered("r0", [ok("a", 0, 0)]),
      { type: "nemesis", phase: "inject", what: "kill broker 1", atMs: 1e9 },
    ];
    expect(check(events, topic([0, 0, "a"])).recoveryMs).toBeNull();
  });

  it("counts records no producer sent as foreign, not as duplicates", () => {
    const { events } = cleanHistory();
    const verdict = check(events, [
      ...topic([0, 0, "a"], [0, 1, "b"], [1, 0, "c"]),
      { partition: 1, offset: 1, value: null },
    ]);
    expect(verdict.foreign).toBe(1);
    expect(verdict.duplicates).toBe(0);
  });
});
