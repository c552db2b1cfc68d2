/**
 * Wharf beside its peers: the v2 produce requests (1 and 100 records, binary and JSON, the same
 * record size) against Wharf and against every `--target` the user started on the same Kafka,
 * one after another in the same run. Each request kind gets a closed-model maximum per endpoint,
 * then an open-model phase per endpoint at one common rate (half the slowest endpoint's maximum), so
 * latencies compare at the same load. A peer's CPU is attributed when its pid is known
 * (--target-pid), so CPU per record compares too; otherwise it counts as "other".
 */
import { produceV2JsonRequest, produceV2Request, type RequestSpec } from "./http-request.ts";
import { type PhaseResult, rateAt, type ScenarioContext } from "./phase.ts";
import { CONNECTIONS, closedPhase, gatewayPool, openPhase } from "./scenarios.ts";

/** The open-model phase runs at this fraction of the slowest endpoint's closed-model maximum. */
export const PEER_LOAD_FRACTION = 0.5;

interface Endpoint {
  name: string;
  url: string;
  /** Wharf's own gateway is measured (CPU, event-loop lag); a peer's CPU only if its pid is known. */
  own: boolean;
  pid: number | null;
}

export const WHARF_ENDPOINT = "Wharf";

export async function peers(ctx: ScenarioContext): Promise<PhaseResult[]> {
  if (ctx.peers.length === 0) {
    ctx.log("peers: skipped, no --target given");
    return [];
  }
  const endpoints: Endpoint[] = [
    { name: WHARF_ENDPOINT, url: ctx.target.gatewayUrl, own: true, pid: ctx.target.gatewayPid },
    ...ctx.peers.map((peer) => ({ ...peer, own: false })),
  ];
  // A peer has no Wharf /metrics to scrape (lagOf: null); its CPU counts as the gateway's.
  const measured = (endpoint: Endpoint) =>
    endpoint.own ? {} : { gatewayPids: endpoint.pid === null ? [] : [endpoint.pid], lagOf: null };
  const { topic } = ctx.target;
  const kinds: RequestSpec[] = [
    produceV2Request(topic, ctx.value, 1),
    produceV2Request(topic, ctx.value, 100),
    produceV2JsonRequest(topic, ctx.value, 1),
    produceV2JsonRequest(topic, ctx.value, 100),
  ];
  const results: PhaseResult[] = [];
  for (const request of kinds) {
    const connections = CONNECTIONS[request.records === 1 ? "produce-1" : "produce-100"];
    const maxima: PhaseResult[] = [];
    for (const endpoint of endpoints) {
      const pool = gatewayPool(endpoint.url, connections);
      try {
        const phase = await closedPhase(ctx, "peers", pool, request, connections, {
          label: `${endpoint.name}: ${request.label}`,
          ...measured(endpoint),
        });
        phase.endpoint = endpoint.name;
        maxima.push(phase);
      } finally {
        await pool.destroy();
      }
    }
    const slowest = Math.min(...maxima.map((p) => p.requestsPerSec ?? 0));
    const rate = rateAt(slowest, PEER_LOAD_FRACTION);
    results.push(...maxima);
    for (const endpoint of endpoints) {
      const pool = gatewayPool(endpoint.url, connections);
      try {
        const phase = await openPhase(ctx, "peers", pool, request, rate, {
          label: `${endpoint.name}: ${request.label}`,
          loadFraction: PEER_LOAD_FRACTION,
          ...measured(endpoint),
        });
        phase.endpoint = endpoint.name;
        phase.connections = connections;
        results.push(phase);
      } finally {
        await pool.destroy();
      }
    }
  }
  return results;
}
