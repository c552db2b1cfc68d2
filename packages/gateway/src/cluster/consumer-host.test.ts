import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../config.ts";
import { silentLogger } from "../log.ts";
import { createMetrics } from "../metrics.ts";
import { consumerSettings } from "../testing.ts";
import { createConsumerHost } from "./consumer-host.ts";
import type { InstanceDirectory, LocalInstanceState } from "./instance-directory.ts";

/** librdkafka consumers the test finishes connecting when it chooses. */
const building = vi.hoisted(() => ({
  pending: [] as Array<(instance: unknown) => void>,
  closed: 0,
}));
vi.mock("../kafka/consumer-instance.ts", () => ({
  ConsumerInstance: {
    create: (_config: unknown, settings: unknown) =>
      new Promise((resolve) => {
        building.pending.push(() =>
          resolve({
            settings,
            subscription: { kind: "none" },
            lastUsed: Date.now(),
            closed: false,
            close: async () => {
              building.closed++;
            },
          }),
        );
      }),
  },
}));

const settings = consumerSettings();

/**
 * A Redis directory that records every renewal and every call in order, can say a lease was taken
 * by another node, and can fail its first renewals (Redis not reachable yet).
 */
function recordingDirectory(options: { leaseTaken: boolean; failedRenewals?: number }) {
  const renewed: LocalInstanceState[][] = [];
  const calls: string[] = [];
  let failures = options.failedRenewals ?? 0;
  let removed = 0;
  const directory: InstanceDirectory = {
    distributed: true,
    unavailableReason: () => null,
    whenAvailable: async () => null,
    recovering: () => false,
    onReconnect: () => {},
    create: async () => {
      calls.push("create");
      return true;
    },
    lookup: async () => null,
    adopt: async () => ({ gone: true }),
    saveSubscription: async () => {},
    renew: async (_node, _address, instances) => {
      if (failures > 0) {
        failures--;
        calls.push("renew failed");
        throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
      }
      calls.push("renew");
      renewed.push(instances);
      return options.leaseTaken ? instances : [];
    },
    release: async () => {},
    remove: async () => {
      removed++;
    },
    close: async () => {},
  };
  return { directory, renewed, calls, removed: () => removed };
}

const heartbeatMs = 300;

function hostWith(directory: InstanceDirectory) {
  const config = parseConfig({ "bootstrap.servers": "127.0.0.1:9", "cluster.heartbeat.ms": String(heartbeatMs) });
  return createConsumerHost(config, directory, silentLogger, createMetrics("test"), () => "http://127.0.0.1:1");
}

/** Heartbeats pass on fake timers: the consumer connects for exactly as long as the test says. */
const ticks = (n: number) => vi.advanceTimersByTimeAsync(n * heartbeatMs);

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  building.pending = [];
  building.closed = 0;
});

describe("consumer host", () => {
  it("puts its node in the directory before it creates an instance there", async () => {
    const { directory, calls } = recordingDirectory({ leaseTaken: false, failedRenewals: 1 });
    const host = hostWith(directory);
    host.start(); // its first renewal fails: Redis was not connected yet
    const created = host.create(settings);
    await ticks(0);
    building.pending[0]?.(undefined);
    await created;
    expect(calls.slice(0, 3)).toEqual(["renew failed", "renew", "create"]);
    await host.handOff();
  });

  it("refuses to create an instance, retriably, while its node cannot be put in the directory", async () => {
    const { directory, calls } = recordingDirectory({ leaseTaken: false, failedRenewals: 2 });
    const host = hostWith(directory);
    host.start();
    await expect(host.create(settings)).rejects.toMatchObject({ status: 503 });
    expect(calls).not.toContain("create");
    await host.handOff();
  });

  it("renews the lease of an instance while its consumer is still connecting", async () => {
    const { directory, renewed } = recordingDirectory({ leaseTaken: false });
    const host = hostWith(directory);
    host.start();
    const created = host.create(settings);
    await ticks(3);
    const whileConnecting = renewed.slice(1).filter((states) => states.some((s) => s.name === "c1"));
    expect(whileConnecting.length).toBeGreaterThanOrEqual(2);
    expect(whileConnecting[0]?.[0]).toMatchObject({ group: "g", name: "c1", epoch: 1 });

    building.pending[0]?.(undefined);
    const instance = await created;
    expect(host.get("g", "c1")).toBe(instance);
    await host.handOff();
  });

  it("gives an instance up, and keeps its record, when another node took it over while it connected", async () => {
    const { directory, removed } = recordingDirectory({ leaseTaken: true });
    const host = hostWith(directory);
    host.start();
    const created = host.create(settings);
    await ticks(2);
    building.pending[0]?.(undefined);
    await expect(created).rejects.toMatchObject({ status: 503 });
    expect(building.closed).toBe(1);
    expect(host.get("g", "c1")).toBeUndefined();
    expect(removed()).toBe(0);
    await host.handOff();
  });
});
