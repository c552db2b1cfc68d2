import { describe, expect, it } from "vitest";
import { createKafkaReadiness } from "./readiness.ts";

function setup(graceMs = 5000) {
  let clock = 0;
  const answers: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const readiness = createKafkaReadiness({
    ping: () => new Promise<void>((resolve, reject) => answers.push({ resolve, reject })),
    intervalMs: 1000,
    graceMs,
    now: () => clock,
  });
  return {
    readiness,
    answers,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("Kafka readiness", () => {
  it("is not ready before Kafka answered once, and waits for that first answer", async () => {
    const { readiness, answers } = setup();
    const first = readiness.problem();
    await settle();
    answers[0]?.reject(new Error("Local: Broker transport failure"));
    expect(await first).toBe("Kafka unreachable: Local: Broker transport failure");
  });

  it("stays ready through unanswered pings for the grace time, then reports the last error", async () => {
    const { readiness, answers, advance } = setup(5000);
    const first = readiness.problem();
    await settle();
    answers[0]?.resolve();
    expect(await first).toBeNull();

    advance(1000);
    // A ping under way does not hold the probe: it is answered from the last result.
    expect(await readiness.problem()).toBeNull();
    answers[1]?.reject(new Error("Local: Timed out"));
    await settle();
    advance(3000);
    expect(await readiness.problem()).toBeNull();
    answers[2]?.reject(new Error("Local: Timed out"));
    await settle();
    advance(1500);
    expect(await readiness.problem()).toBe("Kafka unreachable: Local: Timed out");
  });

  it("is ready again at the next answer", async () => {
    const { readiness, answers, advance } = setup(1000);
    const first = readiness.problem();
    await settle();
    answers[0]?.resolve();
    await first;
    advance(1000);
    await readiness.problem();
    answers[1]?.reject(new Error("down"));
    await settle();
    advance(2000);
    expect(await readiness.problem()).toBe("Kafka unreachable: down");
    answers[2]?.resolve();
    await settle();
    expect(await readiness.problem()).toBeNull();
  });

  it("runs one ping at a time however many probes come", async () => {
    const { readiness, answers, advance } = setup();
    const first = readiness.problem();
    await settle();
    answers[0]?.resolve();
    await first;
    advance(5000);
    await Promise.all([readiness.problem(), readiness.problem(), readiness.problem()]);
    expect(answers).toHaveLength(2);
  });
});
