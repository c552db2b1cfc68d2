import { describe, expect, it } from "vitest";
import { WHARF_ENDPOINT } from "./peers-scenario.ts";
import type { PhaseResult } from "./phase.ts";
import { peerRows } from "./report.ts";

const REQUEST = "POST /topics/{t} 100 records";

/** One peers-scenario phase: `cores` of the endpoint's process over the phase (null: pid unknown). */
function phase(endpoint: string, kind: "max" | "fixed-rate", fields: Partial<PhaseResult> & { cores: number | null }) {
  const { cores, ...rest } = fields;
  return {
    scenario: "peers",
    phase: kind,
    label: `${endpoint}: ${REQUEST}`,
    endpoint,
    loadFraction: kind === "max" ? null : 0.5,
    model: kind === "max" ? "closed" : "open",
    recordsPerRequest: 100,
    connections: 16,
    offeredPerSec: kind === "max" ? null : 50,
    requestsPerSec: 100,
    recordsPerSec: 10_000,
    latencyMs: null,
    serviceTimeMs: null,
    counts: { ok: 800 },
    maxSchedulerLagMs: null,
    eventLoopLagP99Ms: null,
    stats: {
      wallS: 8,
      gatewayCpu: cores,
      gatewayRssPeakMiB: null,
      gatewayRssEndMiB: null,
      brokerCpu: null,
      generatorCpu: 0.1,
      machineBusy: null,
      otherCpu: null,
    },
    ...rest,
  } satisfies PhaseResult;
}

describe("peerRows", () => {
  const phases = [
    phase(WHARF_ENDPOINT, "max", { cores: 0.5, recordsPerSec: 50_000, requestsPerSec: 500 }),
    phase("strimzi", "max", {
      cores: 1.0,
      recordsPerSec: 25_000,
      requestsPerSec: 250,
      counts: { ok: 10, httpError: 2 },
    }),
    phase("other", "max", { cores: null }),
    phase(WHARF_ENDPOINT, "fixed-rate", { cores: 0.1 }),
    phase("strimzi", "fixed-rate", { cores: 0.3, counts: { ok: 400, recordError: 1, shed: 3 } }),
    phase("other", "fixed-rate", { cores: null }),
  ];
  const rows = peerRows(phases);
  const row = (endpoint: string) => rows.find((r) => r.endpoint === endpoint);

  it("gives each endpoint its CPU per record at its maximum and that as a multiple of Wharf's", () => {
    expect(row(WHARF_ENDPOINT)).toMatchObject({ usPerRecord: 10, cpuRatio: 1, ratio: 1 });
    // 1 core over 25,000 records/s is 40 us a record: four times Wharf's 0.5 core over 50,000.
    expect(row("strimzi")).toMatchObject({ request: REQUEST, usPerRecord: 40, cpuRatio: 4, ratio: 0.5 });
  });

  it("leaves the CPU figures empty for a peer whose pid was not given", () => {
    expect(row("other")).toMatchObject({ usPerRecord: null, cpuRatio: null, ratio: 0.2 });
  });

  it("counts the requests of both phases that were not acknowledged in full", () => {
    expect(row("strimzi")?.errors).toBe(2 + 1 + 3);
    expect(row(WHARF_ENDPOINT)?.errors).toBe(0);
  });
});
