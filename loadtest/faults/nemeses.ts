/**
 * The faults, one per scenario. Each runs while the workload runs, records when it struck and when
 * it healed, and leaves the stack as it found it (every process running, every replica in sync),
 * waiting on conditions rather than for fixed times wherever the stack can say it is ready.
 */
import {
  killGateway,
  killRedis,
  killRedisPrimary,
  restartLoadBalancer,
  restartRedisReplica,
  type StackInfo,
  signalBroker,
  startBroker,
  startGateway,
  startRedis,
  waitForRedisFailover,
} from "../../deploy/stack/index.ts";
import type { History } from "./history.ts";
import type { KafkaView, PartitionView } from "./kafka-view.ts";

export interface NemesisContext {
  stack: StackInfo;
  view: KafkaView;
  topic: string;
  history: History;
  log: (message: string) => void;
  /** The CI form: fewer rounds. */
  short: boolean;
}

export type Nemesis = (ctx: NemesisContext) => Promise<void>;

/** Time for a replica to catch up after a restart on a busy 2-core machine; beyond it, the run is void. */
const IN_SYNC_TIMEOUT_MS = 120_000;

const fullyInSync = (partitions: PartitionView[]) =>
  partitions.every((p) => p.leader >= 0 && p.isrs.length === p.replicas.length);

async function waitInSync(ctx: NemesisContext): Promise<void> {
  if (!(await ctx.view.waitFor(ctx.topic, fullyInSync, IN_SYNC_TIMEOUT_MS))) {
    throw new Error(`${ctx.topic}: replicas not back in sync within ${IN_SYNC_TIMEOUT_MS / 1000} s`);
  }
}

async function leaderOf(ctx: NemesisContext, partition: number): Promise<number> {
  const partitions = await ctx.view.partitions(ctx.topic);
  const leader = partitions.find((p) => p.id === partition)?.leader ?? -1;
  if (leader < 0) throw new Error(`${ctx.topic}/${partition} has no leader`);
  return leader;
}

const mark = (ctx: NemesisContext, phase: "inject" | "heal", what: string) => {
  ctx.history.add({ type: "nemesis", phase, what, atMs: ctx.history.now() });
  ctx.log(`${phase === "inject" ? "fault" : "healed"}: ${what}`);
};

const hold = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGKILL the leader of partition 0, wait until another broker leads it, restart the dead one and
 * wait until it is back in every ISR; then chase the new leader, 5 times (1 in the short form).
 */
export const leaderKill: Nemesis = async (ctx) => {
  const rounds = ctx.short ? 1 : 5;
  for (let round = 1; round <= rounds; round++) {
    const leader = await leaderOf(ctx, 0);
    await signalBroker(ctx.stack, leader, "SIGKILL");
    mark(ctx, "inject", `SIGKILL broker ${leader}, leader of ${ctx.topic}/0 (round ${round})`);
    const moved = await ctx.view.waitFor(
      ctx.topic,
      (ps) => {
        const p0 = ps.find((p) => p.id === 0);
        return p0 !== undefined && p0.leader >= 0 && p0.leader !== leader;
      },
      30_000,
    );
    if (!moved) ctx.log(`warning: no new leader for ${ctx.topic}/0 within 30 s`);
    await startBroker(ctx.stack, leader);
    await waitInSync(ctx);
    mark(ctx, "heal", `broker ${leader} back in sync`);
    await hold(2000);
  }
};

/** Broker session timeout (broker.session.timeout.ms, Kafka's default 9 s) plus room: the controller fences it. */
const PAUSE_MS = 14_000;

/** SIGSTOP the leader of partition 0 past the broker session timeout, then SIGCONT it. */
export const brokerPause: Nemesis = async (ctx) => {
  const leader = await leaderOf(ctx, 0);
  await signalBroker(ctx.stack, leader, "SIGSTOP");
  mark(ctx, "inject", `SIGSTOP broker ${leader}, leader of ${ctx.topic}/0, for ${PAUSE_MS / 1000} s`);
  try {
    await hold(PAUSE_MS);
  } finally {
    await signalBroker(ctx.stack, leader, "SIGCONT");
  }
  await waitInSync(ctx);
  mark(ctx, "heal", `broker ${leader} resumed and in sync`);
};

/** SIGKILL one gateway mid-load, restart it after a few seconds (its consumer instances move meanwhile). */
export const gatewayKill: Nemesis = async (ctx) => {
  const victim = ctx.stack.gateways[1]?.id ?? ctx.stack.gateways[0]?.id;
  if (!victim) throw new Error("no gateway to kill");
  await killGateway(ctx.stack, victim, "SIGKILL");
  mark(ctx, "inject", `SIGKILL gateway ${victim}`);
  await hold(5000);
  await startGateway(ctx.stack, victim);
  mark(ctx, "heal", `gateway ${victim} ready`);
  await hold(3000);
};

/** SIGKILL Redis and start it again empty: leases, node registry and routing are gone at once. */
export const redisKill: Nemesis = async (ctx) => {
  await killRedis(ctx.stack);
  mark(ctx, "inject", "SIGKILL redis");
  await hold(3000);
  await startRedis(ctx.stack);
  mark(ctx, "heal", "redis running again, empty");
  await hold(5000);
};

/**
 * Restart haproxy twice: a soft stop (SIGUSR1: it stops listening, finishes what it has, and
 * tells keep-alive clients to close) and then a hard one (SIGTERM: every connection cut at once).
 */
export const haproxyRestart: Nemesis = async (ctx) => {
  for (const signal of ["SIGUSR1", "SIGTERM"] as const) {
    mark(ctx, "inject", `restart haproxy (${signal})`);
    await restartLoadBalancer(ctx.stack, signal);
    mark(ctx, "heal", "haproxy routing again");
    await hold(4000);
  }
};

/**
 * SIGKILL the Redis primary of a Sentinel stack; the sentinels promote the replica. Then the dead
 * node comes back as a replica of the new primary (empty, it takes a full copy), so the stack
 * can fail over again: the next run strikes the other node.
 */
export const redisPrimaryKill: Nemesis = async (ctx) => {
  const killed = await killRedisPrimary(ctx.stack);
  mark(ctx, "inject", `SIGKILL the redis primary (port ${killed})`);
  const promoted = await waitForRedisFailover(ctx.stack, killed);
  mark(ctx, "heal", `sentinels promoted port ${promoted}`);
  await hold(3000);
  await restartRedisReplica(ctx.stack, killed);
  mark(ctx, "heal", `port ${killed} back as a replica of port ${promoted}`);
  await hold(3000);
};
