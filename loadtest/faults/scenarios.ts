/** The scenarios: a name, what it does, and its nemesis. The order is the order `pnpm faults` runs them. */
import {
  brokerPause,
  gatewayKill,
  haproxyRestart,
  leaderKill,
  type Nemesis,
  redisKill,
  redisPrimaryKill,
} from "./nemeses.ts";

/** Which Redis the scenario's stack has: one server, or a primary and a replica behind Sentinel. */
export type RedisKind = "single" | "sentinel";

export interface Scenario {
  name: string;
  description: string;
  nemesis: Nemesis;
  /** Part of the CI form (`--short`). */
  short: boolean;
  redis: RedisKind;
  /** Targets beyond the common ones (report.ts): no produce request may fail at all. */
  produceUnaffected?: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "leader-kill",
    description: "partition leader SIGKILLed and restarted, 5 times in a row, chasing the new leader",
    nemesis: leaderKill,
    short: true,
    redis: "single",
  },
  {
    name: "broker-pause",
    description: "partition leader SIGSTOPped past the broker session timeout, then resumed",
    nemesis: brokerPause,
    short: false,
    redis: "single",
  },
  {
    name: "gateway-kill",
    description: "a gateway SIGKILLed mid-load and restarted",
    nemesis: gatewayKill,
    short: true,
    redis: "single",
  },
  {
    name: "redis-kill",
    description: "Redis SIGKILLed and restarted empty",
    nemesis: redisKill,
    short: false,
    redis: "single",
  },
  {
    name: "haproxy-restart",
    description: "haproxy restarted: a soft stop, then a hard stop",
    nemesis: haproxyRestart,
    short: false,
    redis: "single",
  },
  {
    name: "redis-primary-kill",
    description: "the Redis Sentinel primary SIGKILLed, the replica promoted, the dead node back as a replica",
    nemesis: redisPrimaryKill,
    short: false,
    redis: "sentinel",
    // Produce touches Redis only for its Idempotency-Key, which must ride out a failover.
    produceUnaffected: true,
  },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
