/**
 * Scale-out: the same produce load against one gateway directly, against all of them directly
 * (the generator spreads its connections, no balancer hop) and through haproxy, back to back. On one two-core machine the gateways, the broker, haproxy and this generator share
 * the same cores, so this shows what a second and third process buy there, not on separate hosts.
 */
import { BalancedPool, type Dispatcher } from "undici";
import { produceV2Request } from "./http-request.ts";
import type { PhaseResult, ScenarioContext } from "./phase.ts";
import { CONNECTIONS, closedPhase, gatewayPool } from "./scenarios.ts";

export async function scaleOut(ctx: ScenarioContext): Promise<PhaseResult[]> {
  const { target } = ctx;
  if (!target.lbUrl || target.gateways.length < 2) {
    ctx.log("scale-out: skipped, needs the stack's own gateways behind haproxy (not --gateway)");
    return [];
  }
  const all = target.gateways.flatMap((g) => (g.pid === null ? [] : [g.pid]));
  const results: PhaseResult[] = [];
  for (const records of [1, 100] as const) {
    const request = produceV2Request(target.topic, ctx.value, records);
    const connections = CONNECTIONS[records === 1 ? "produce-1" : "produce-100"];
    const urls = target.gateways.map((g) => g.url);
    const lbUrl = target.lbUrl;
    const spread = () =>
      new BalancedPool(urls, {
        connections: Math.ceil(connections / urls.length),
        pipelining: 1,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
    const runs: { label: string; pool: () => Dispatcher; pids: number[] }[] = [
      {
        label: `${request.label}, 1 gateway direct`,
        pool: () => gatewayPool(target.gatewayUrl, connections),
        pids: all.slice(0, 1),
      },
      { label: `${request.label}, ${all.length} gateways direct`, pool: spread, pids: all },
      {
        label: `${request.label}, ${all.length} gateways via haproxy`,
        pool: () => gatewayPool(lbUrl, connections),
        pids: all,
      },
    ];
    for (const run of runs) {
      const pool = run.pool();
      try {
        results.push(
          await closedPhase(ctx, "scale-out", pool, request, connections, {
            label: run.label,
            gatewayPids: run.pids,
            lagOf: target.gatewayUrl,
          }),
        );
      } finally {
        await pool.destroy();
      }
    }
  }
  return results;
}
