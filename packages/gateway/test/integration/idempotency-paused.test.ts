/**
 * Idempotency-Key and a gateway that is paused, not dead: a real process (held-gateway.ts)
 * claims a key, is SIGSTOPped between its claim and its write, and stays stopped past its lease.
 * A retry on another node takes the claim over and writes the records; then the paused node is
 * SIGCONTed and let go. It must write nothing (its claim is no longer provably its own), so Kafka
 * holds each record once. And records it had handed to librdkafka before the pause (held there by
 * linger.ms) are still delivered after it: the retry must not take the claim over before they
 * are delivered or timed out.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { gatewayUrl, readTopic, stack, unique } from "./helpers.ts";
import { b64, createTopic, expectNothingWritten, produceV2 } from "./produce-helpers.ts";

const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null) return;
      child.kill("SIGCONT");
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send("close");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }),
  );
});

/** The next message from the child that has `field`. */
function nextMessage<T>(from: ChildProcess, field: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>) => {
      if (!(field in message)) return;
      from.off("message", onMessage);
      from.off("exit", onExit);
      resolve(message[field] as T);
    };
    const onExit = (code: number | null) => reject(new Error(`the held gateway exited (${code})`));
    from.on("message", onMessage);
    from.once("exit", onExit);
  });
}

/** A gateway process on the stack's Kafka and Redis, with a short lease and message timeout. */
async function startHeldGateway(extra: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const settings = {
    id: unique("held"),
    "bootstrap.servers": stack().kafka,
    "redis.url": stack().redis as string,
    listeners: "http://127.0.0.1:0",
    "internal.listener": "http://127.0.0.1:0",
    "cluster.secret": stack().clusterSecret as string,
    "log.level": "error",
    // Held in Redis for 1.5 + 2 + 3 (margin) s after its last renewal: a retry elsewhere, which
    // waits idempotency.wait.ms (10 s) for a claim in flight, gets to take it over.
    "idempotency.lease.ms": "1500",
    "producer.message.timeout.ms": "2000",
    ...extra,
  };
  const started = fork(new URL("./held-gateway.ts", import.meta.url), [JSON.stringify(settings)], {
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.push(started);
  return { child: started, url: await nextMessage<string>(started, "url") };
}

describe("Idempotency-Key with a gateway paused past its lease", () => {
  it("the paused node writes nothing when it resumes; the retry elsewhere wrote each record once", async () => {
    const topic = await createTopic(unique("paused"), 1);
    const { child: held, url } = await startHeldGateway();
    const key = `"${randomUUID()}"`;
    const body = { records: [{ value: b64("p0") }, { value: b64("p1") }] };
    const send = (base: string) => produceV2(topic, body, { base, headers: { "idempotency-key": key } });

    const first = send(url);
    await nextMessage(held, "held");
    // The claim is made and its records are about to be handed to librdkafka: pause the process.
    expect(held.kill("SIGSTOP")).toBe(true);
    let retry = { status: 0, text: "", json: undefined } as Awaited<ReturnType<typeof send>>;
    try {
      // The retry waits for the claim in flight (409 after idempotency.wait.ms), then takes it over.
      for (let attempt = 0; attempt < 3 && (attempt === 0 || retry.status === 409); attempt++) {
        retry = await send(gatewayUrl(0));
      }
    } finally {
      held.kill("SIGCONT");
    }
    expect(retry.status, retry.text).toBe(200);
    expect(retry.json.offsets.map((o: { offset: number }) => o.offset)).toEqual([0, 1]);

    // Resumed and let go: the paused request cannot show its claim is still its own.
    held.send("release");
    const late = await first;
    expect(late.status, late.text).toBe(503);
    expect(late.json.error_code).toBe(50003);

    // Each record once: the sentinel record lands right after the retry's two.
    await expectNothingWritten(topic, 2, gatewayUrl(1));
    const values = (await readTopic(topic, 3, 10_000)).map((r) => r.value?.toString());
    expect(values.slice(0, 2)).toEqual(["p0", "p1"]);
    const again = await send(gatewayUrl(2));
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.text).toBe(retry.text);
  });

  it("records queued in librdkafka before the pause: the retry waits for them and replays, writing nothing", async () => {
    const topic = await createTopic(unique("paused-queued"), 1);
    // linger.ms keeps a send's records in librdkafka's queue for 4 s: what a pause can catch.
    // The claim is held for 1.5 + 8 + 3 s after the last renewal.
    const { child: held, url } = await startHeldGateway({
      "producer.linger.ms": "4000",
      "produce.idle.flush.ms": "0",
      "producer.message.timeout.ms": "8000",
    });
    const key = `"${randomUUID()}"`;
    const body = { records: [{ value: b64("q0") }, { value: b64("q1") }] };
    const send = (base: string) => produceV2(topic, body, { base, headers: { "idempotency-key": key } });

    const first = send(url);
    await nextMessage(held, "held");
    const sent = nextMessage(held, "sent");
    held.send("release");
    await sent;
    expect(held.kill("SIGSTOP")).toBe(true);
    // The retry comes while the node is paused, and goes on asking past its lease.
    const retry = send(gatewayUrl(0));
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000));
    } finally {
      held.kill("SIGCONT");
    }
    const answer = await first;
    expect(answer.status, answer.text).toBe(200);
    const retried = await retry;
    expect(retried.status, retried.text).toBe(200);
    expect(retried.headers["idempotent-replayed"]).toBe("true");
    expect(retried.text).toBe(answer.text);
    await expectNothingWritten(topic, 2, gatewayUrl(1));
  });
});
