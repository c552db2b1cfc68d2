import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../log.ts";
import { onlineReplicas, type ReplicationSource, trackConnectedReplicas, UNKNOWN_REPLICAS } from "./replica-count.ts";

const primary = (...states: string[]) =>
  [
    "# Replication",
    "role:master",
    `connected_slaves:${states.length}`,
    ...states.map((state, i) => `slave${i}:ip=127.0.0.1,port=${7000 + i},state=${state},offset=10,lag=0`),
    "master_repl_offset:10",
    "",
  ].join("\r\n");

/** A client whose INFO answers are handed out by the test, one pending reply at a time. */
class FakeSource extends EventEmitter implements ReplicationSource {
  status = "connecting";
  calls = 0;
  replies: Array<{ resolve: (info: string) => void; reject: (error: Error) => void }> = [];
  info(): Promise<string> {
    this.calls++;
    return new Promise((resolve, reject) => this.replies.push({ resolve, reject }));
  }
  connect() {
    this.status = "ready";
    this.emit("ready");
  }
  answer(info: string) {
    const reply = this.replies.shift();
    if (!reply) throw new Error("no INFO pending");
    reply.resolve(info);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe("onlineReplicas", () => {
  it("counts the replicas a primary lists online, not those still syncing", () => {
    expect(onlineReplicas(primary())).toBe(0);
    expect(onlineReplicas(primary("online"))).toBe(1);
    expect(onlineReplicas(primary("online", "wait_bgsave", "send_bulk", "online"))).toBe(2);
    expect(onlineReplicas("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n")).toBe(0);
  });
});

describe("trackConnectedReplicas", () => {
  it("reads the count on connect; requests wait for that reading, then use it without a round trip", async () => {
    const source = new FakeSource();
    const counts: number[] = [];
    const tracker = trackConnectedReplicas(source, { log: silentLogger, onCount: (n) => counts.push(n) });
    expect(source.calls).toBe(0);
    source.connect();
    expect(source.calls).toBe(1);
    const first = tracker.wanted();
    expect(first).toBeInstanceOf(Promise);
    source.answer(primary("online"));
    expect(await first).toBe(1);
    await settle();
    expect(tracker.wanted()).toBe(1);
    expect(source.calls).toBe(1);
    expect(counts).toEqual([1]);
    tracker.close();
  });

  it("after a failover to a primary without replicas, waits for none once the new connection is read", async () => {
    const source = new FakeSource();
    const tracker = trackConnectedReplicas(source, { log: silentLogger });
    source.connect();
    source.answer(primary("online"));
    await settle();
    expect(tracker.wanted()).toBe(1);
    // The client follows Sentinel to the promoted replica: a new "ready".
    source.status = "reconnecting";
    source.status = "ready";
    source.emit("ready");
    const pending = tracker.wanted();
    source.answer(primary());
    expect(await pending).toBe(0);
    await settle();
    expect(tracker.wanted()).toBe(0);
    tracker.close();
  });

  it("ignores a reading sent on the connection before a reconnect", async () => {
    const source = new FakeSource();
    const tracker = trackConnectedReplicas(source, { log: silentLogger });
    source.connect();
    source.answer(primary("online"));
    await settle();
    tracker.stale();
    expect(source.calls).toBe(2);
    source.emit("ready");
    expect(source.calls).toBe(3);
    // The old primary's late answer (one replica) must not overwrite the new one's (none).
    source.answer(primary("online"));
    source.answer(primary());
    expect(await tracker.wanted()).toBe(0);
    tracker.close();
  });

  it("reads again about every interval and when a WAIT came back short, one reading at a time", async () => {
    vi.useFakeTimers();
    const source = new FakeSource();
    const tracker = trackConnectedReplicas(source, { log: silentLogger, intervalMs: 1000 });
    source.connect();
    source.answer(primary());
    await vi.advanceTimersByTimeAsync(0);
    expect(tracker.wanted()).toBe(0);
    // A replica connects: seen at the next interval.
    await vi.advanceTimersByTimeAsync(1000);
    expect(source.calls).toBe(2);
    source.answer(primary("online"));
    await vi.advanceTimersByTimeAsync(0);
    expect(tracker.wanted()).toBe(1);
    // It goes away: a short WAIT reads at once; a second one meanwhile sends nothing more.
    tracker.stale();
    tracker.stale();
    expect(source.calls).toBe(3);
    source.answer(primary());
    await vi.advanceTimersByTimeAsync(0);
    expect(tracker.wanted()).toBe(0);
    // Not while disconnected; and not after close.
    source.status = "reconnecting";
    await vi.advanceTimersByTimeAsync(1000);
    expect(source.calls).toBe(3);
    source.status = "ready";
    tracker.close();
    await vi.advanceTimersByTimeAsync(3000);
    expect(source.calls).toBe(3);
  });

  it("keeps the last count when a reading fails, and waits for one replica when none was ever read", async () => {
    vi.useFakeTimers();
    const source = new FakeSource();
    const tracker = trackConnectedReplicas(source, { log: silentLogger, intervalMs: 1000, timeoutMs: 500 });
    source.connect();
    source.replies.shift()?.reject(new Error("NOPERM this user has no permissions to run the 'info' command"));
    expect(await tracker.wanted()).toBe(UNKNOWN_REPLICAS);
    await vi.advanceTimersByTimeAsync(1000);
    source.answer(primary());
    await vi.advanceTimersByTimeAsync(0);
    expect(tracker.wanted()).toBe(0);
    // A reading that never answers times out, and the count stays.
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(600);
    expect(tracker.wanted()).toBe(0);
    await vi.advanceTimersByTimeAsync(400);
    expect(source.calls).toBe(4);
    tracker.close();
  });
});
