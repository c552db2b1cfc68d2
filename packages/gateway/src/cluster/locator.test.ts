import { describe, expect, it, vi } from "vitest";
import { consumerSettings } from "../testing.ts";
import type { ConsumerHost } from "./consumer-host.ts";
import type { InstanceDirectory, InstanceLocation } from "./instance-directory.ts";
import { createLocator } from "./locator.ts";

const settings = consumerSettings();

/** A Redis directory whose availability and answers the test sets; counts what it was asked. */
function fakeDirectory() {
  const state = {
    available: true,
    /** Whether whenAvailable() finds Redis back (it stands for waiting up to redis.wait.ms). */
    comesBack: false,
    recovering: false,
    location: null as InstanceLocation | null,
    lookupFails: false,
    lookups: 0,
    adoptions: 0,
  };
  const unavailableReason = () => (state.available ? null : "Redis is unavailable (reconnecting)");
  const directory: InstanceDirectory = {
    distributed: true,
    unavailableReason,
    whenAvailable: async () => {
      if (state.comesBack) state.available = true;
      return unavailableReason();
    },
    recovering: () => state.recovering,
    onReconnect: () => {},
    create: async () => true,
    lookup: async () => {
      state.lookups++;
      if (state.lookupFails) throw new Error("Connection is closed.");
      return state.location;
    },
    adopt: async () => {
      state.adoptions++;
      return { gone: true };
    },
    saveSubscription: async () => {},
    renew: async () => [],
    release: async () => {},
    remove: async () => {},
    close: async () => {},
  };
  return { directory, state };
}

/** A node that owns no instance itself. */
const emptyHost = { get: () => undefined, draining: false, registered: async () => {} } as unknown as ConsumerHost;

const ownedBy = (owner: string, address: string): InstanceLocation => ({
  record: { settings, subscription: { kind: "topics", topics: ["t"] }, epoch: 1 },
  leaseOwner: owner,
  ownerAddress: address,
});

const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 0,
    (error: { status?: number }) => error.status ?? -1,
  );

describe("locator", () => {
  it("forwards to the owner it last saw while Redis is away, and to no one it never saw", async () => {
    const { directory, state } = fakeDirectory();
    const locator = createLocator("n1", directory, emptyHost);
    state.location = ownedBy("n2", "http://n2:9000");
    expect(await locator.locate("g", "c1", true)).toEqual({ remote: "http://n2:9000" });

    state.available = false;
    expect(await locator.locate("g", "c1", true)).toEqual({ remote: "http://n2:9000" });
    // A forwarded request must not travel on, and an unknown instance cannot be routed.
    expect(await statusOf(locator.locate("g", "c1", false))).toBe(503);
    expect(await statusOf(locator.locate("g", "c2", true))).toBe(503);
    // After a failed forward the owner is forgotten: nothing left to route to.
    locator.forget("g", "c1");
    expect(await statusOf(locator.locate("g", "c1", true))).toBe(503);
  });

  it("waits for Redis to come back before it refuses an instance it does not know", async () => {
    const { directory, state } = fakeDirectory();
    const locator = createLocator("n1", directory, emptyHost);
    state.available = false;
    state.comesBack = true;
    state.location = ownedBy("n2", "http://n2:9000");
    expect(await locator.locate("g", "c1", true)).toEqual({ remote: "http://n2:9000" });
    expect(state.lookups).toBe(1);
  });

  it("uses the last owner when the connection drops under a lookup", async () => {
    const { directory, state } = fakeDirectory();
    const locator = createLocator("n1", directory, emptyHost);
    state.location = ownedBy("n2", "http://n2:9000");
    await locator.locate("g", "c1", true);
    state.lookupFails = true;
    // Past the 1 s in which a remembered owner is used without asking Redis.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 2000);
      expect(await locator.locate("g", "c1", true)).toEqual({ remote: "http://n2:9000" });
      expect(state.lookups).toBe(2);
      expect(await statusOf(locator.locate("g", "c2", true))).toBe(503);
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not adopt an instance whose lease lapsed while the directory recovers from a reconnect", async () => {
    const { directory, state } = fakeDirectory();
    const locator = createLocator("n1", directory, emptyHost);
    state.location = { ...ownedBy("n2", "http://n2:9000"), leaseOwner: null, ownerAddress: null };
    state.recovering = true;
    expect(await statusOf(locator.locate("g", "c1", true))).toBe(503);
    expect(state.adoptions).toBe(0);
    state.recovering = false;
    // Recovered: the lapsed lease is an owner that died; the instance is adopted (gone here: 404).
    expect(await statusOf(locator.locate("g", "c1", true))).toBe(404);
    expect(state.adoptions).toBe(1);
  });
});
