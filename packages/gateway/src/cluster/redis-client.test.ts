import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { type RedisClient, readyWaiter } from "./redis-client.ts";

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
