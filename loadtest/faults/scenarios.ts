/** The scenarios: a name, what it does, and its nemesis. The order is the order `pnpm faults` runs them. */
import { brokerPause, gatewayKill, haproxyRestart, leaderKill, type Nemesis, redisKill } from "./nemeses.ts";

export interface Scenario {
  name: string;
  description: string;
  nemesis: Nemesis;
  /** Part of the CI form (`--short`). */
  short: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "leader-kill",
    description: "partition leader SIGKILLed and restarted, 5 times in a row, chasing the new leader",
    nemesis: leaderKill,
    short: true,
  },
  {
    name: "broker-pause",
    description: "partition leader SIGSTOPped past the broker session timeout, then resumed",
    nemesis: brokerPause,
    short: false,
  },
  {
    name: "gateway-kill",
    description: "a gateway SIGKILLed mid-load and restarted",
    nemesis: gatewayKill,
    short: true,
  },
  {
    name: "redis-kill",
    description: "Redis SIGKILLed and restarted empty",
    nemesis: redisKill,
    short: false,
  },
  {
    name: "haproxy-restart",
    description: "haproxy restarted: a soft stop, then a hard stop",
    nemesis: haproxyRestart,
    short: false,
  },
  // Hook for Redis Sentinel (branch `sentinel`): a "redis-primary-kill" scenario whose nemesis
  // SIGKILLs the Sentinel primary through the stack's control function and waits for the failover,
  // on a stack started with redisSentinel. Added once that branch is in main.
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
