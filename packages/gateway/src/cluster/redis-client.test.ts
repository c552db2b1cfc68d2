import { EventEmitter } from "node:events";
import { ReplyError } from "ioredis";
import { describe, expect, it } from "vitest";
import { isTransientRedisError, patientRunner, type RedisClient, readyWaiter } from "./redis-client.ts";

/** What readyWaiter reads of a client: its status and its "ready" event. */
function fakeClient(status: string) {
  const client = Object.assign(new EventEmitter(), { status });
  const becomeReady = () => {
    client.status = "ready";
    client.emit("ready");
  };
  return { client: client as unknown as RedisClient, becomeReady, listeners: () => client.listenerCount("ready") };
}

describe("readyWaiter", () => {
  it("answers at once for a connected client, and false at once with no time to wait", async () => {
    expect(await readyWaiter(fakeClient("ready").client)(1000)).toBe(true);
    expect(await readyWaiter(fakeClient("reconnecting").client)(0)).toBe(false);
  });

  it("lets every waiter through on the next ready, sharing one listener", async () => {
    const { client, becomeReady, listeners } = fakeClient("reconnecting");
    const ready = readyWaiter(client);
    const waits = [ready(60_000), ready(60_000), ready(60_000)];
    await Promise.resolve();
    expect(listeners()).toBe(1);
    becomeReady();
    expect(await Promise.all(waits)).toEqual([true, true, true]);
    expect(listeners()).toBe(0);
  });

  it("gives up after its own wait while Redis stays away", async () => {
    const { client } = fakeClient("connecting");
    expect(await readyWaiter(client)(20)).toBe(false);
  });
});

/** An error reply as ioredis rejects a command with it. */
const reply = (message: string): Error => new ReplyError(message);

/** Waits up to 5 s over all tries, 1 s per try. */
const patient = (client: RedisClient) => patientRunner(client, 5000, 1000);

describe("patientRunner", () => {
  it("sends a command again after a demoted primary's READONLY while the client still says ready", async () => {
    const { client } = fakeClient("ready");
    let tries = 0;
    const answer = await patientRunner(
      client,
      5000,
      1000,
    )(async () => {
      tries++;
      if (tries === 1) throw reply("READONLY You can't write against a read only replica.");
      return "OK";
    });
    expect(answer).toBe("OK");
    expect(tries).toBe(2);
  });

  it("waits for the reconnect after a dropped connection, then tries again", async () => {
    const { client, becomeReady } = fakeClient("ready");
    const mutable = client as unknown as { status: string };
    let tries = 0;
    const running = patient(client)(async () => {
      tries++;
      if (tries === 1) {
        mutable.status = "reconnecting";
        setTimeout(becomeReady, 100);
        throw new Error("Connection is closed.");
      }
      return 42;
    });
    expect(await running).toBe(42);
    expect(tries).toBe(2);
  });

  it("gives a server's definite refusal back at once", async () => {
    const { client } = fakeClient("ready");
    let tries = 0;
    const running = patient(client)(async () => {
      tries++;
      throw reply("ERR Error running script");
    });
    await expect(running).rejects.toThrow("ERR Error running script");
    expect(tries).toBe(1);
  });

  it("stops trying once its wait has passed", async () => {
    const { client } = fakeClient("ready");
    const startedAt = Date.now();
    const running = patientRunner(
      client,
      200,
      1000,
    )(async () => {
      throw reply("LOADING Redis is loading the dataset in memory");
    });
    await expect(running).rejects.toThrow("LOADING");
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200);
  });

  it("tells transient failures from definite ones", () => {
    expect(isTransientRedisError(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(
      true,
    );
    expect(isTransientRedisError(reply("CLUSTERDOWN The cluster is down"))).toBe(true);
    expect(isTransientRedisError(reply("WRONGTYPE Operation against a key holding the wrong kind of value"))).toBe(
      false,
    );
  });
});
