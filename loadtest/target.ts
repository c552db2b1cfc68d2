/**
 * What the benchmark runs against: its own stack (one broker, three gateways sharing Redis,
 * haproxy in front) started through deploy/stack, or services the caller already runs. Either way
 * it gets a fresh topic. Single-gateway scenarios talk to the first gateway directly; the others
 * stay idle until the forwarding and scale-out scenarios use them.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import { startStack, stopStack } from "../deploy/stack/index.ts";

export interface TargetOptions {
  /** Reuse this cluster instead of starting a broker. */
  kafka: string | null;
  /** Reuse this gateway (needs `kafka` too: the ceiling and the topic talk to Kafka directly). */
  gateway: string | null;
  /** The reused gateway's pid, for its CPU and RSS; unknown otherwise. */
  gatewayPid: number | null;
  /** The reused brokers' pids, for their CPU (otherwise it counts as "other"). */
  kafkaPids?: number[];
  partitions: number;
  /** Gateways of the stack this run starts (with Redis and haproxy when more than one). */
  gateways: number;
  /** State directory of the stack this run starts. */
  stackDir: string;
  log: (message: string) => void;
}

export interface GatewayRef {
  url: string;
  pid: number | null;
}

export interface Target {
  kafka: string;
  gatewayUrl: string;
  gatewayPid: number | null;
  /** Every gateway, the first being gatewayUrl; one when the gateway is reused. */
  gateways: GatewayRef[];
  /** haproxy in front of all gateways, or null. */
  lbUrl: string | null;
  brokerPids: number[];
  brokers: number;
  topic: string;
  partitions: number;
  /** Which gateway code runs, for the report. */
  gatewaySource: string;
  /** True when this run started the broker (and will stop it with the stack). */
  ownKafka: boolean;
  close(): Promise<void>;
}

const REPO = join(import.meta.dirname, "..");
/** Per run, so two engineers' runs on one machine never share (or stop) each other's stack. */
export const defaultStackDir = () => join(tmpdir(), `bench-${process.pid}`);

export async function openTarget(options: TargetOptions): Promise<Target> {
  if (options.gateway && !options.kafka) {
    throw new Error("--gateway needs --kafka as well: the plain producer and the topic set-up talk to Kafka");
  }
  let kafka = options.kafka;
  let gatewayUrl = options.gateway;
  let gatewayPid = options.gatewayPid;
  let brokerPids: number[] = options.kafkaPids ?? [];
  let gateways: GatewayRef[] = gatewayUrl ? [{ url: gatewayUrl, pid: gatewayPid }] : [];
  let lbUrl: string | null = null;
  const stackDir = options.stackDir;
  const ownStack = gatewayUrl === null;
  const ownKafka = kafka === null;
  if (ownStack) {
    const info = await startStack({
      brokers: 1,
      gateways: options.gateways,
      lb: options.gateways > 1,
      gatewayPort: 0,
      dir: stackDir,
      log: (message) => options.log(`[stack] ${message}`),
      ...(kafka ? { kafka } : {}),
    });
    const gateway = info.gateways[0];
    if (!gateway) throw new Error("the stack started no gateway");
    kafka = info.kafka;
    gatewayUrl = gateway.url;
    gatewayPid = gateway.pid;
    if (ownKafka) brokerPids = info.brokers.map((b) => b.pid);
    gateways = info.gateways.map((g) => ({ url: g.url, pid: g.pid }));
    lbUrl = info.lb;
  }
  const bootstrap = kafka as string;
  const stopOwnStack = () => (ownStack ? stopStack(stackDir) : Promise.resolve());

  const admin = new Admin({ clientId: "wharf-bench", bootstrapBrokers: bootstrap.split(",") });
  const topic = `wharf-bench-${randomUUID().slice(0, 8)}`;
  let brokers = 1;
  try {
    brokers = (await admin.metadata({ topics: [] })).brokers.size;
    await createTopic(admin, topic, options.partitions, Math.min(brokers, 3));
  } catch (error) {
    await admin.close();
    await stopOwnStack();
    throw error;
  }
  options.log(`topic ${topic}: ${options.partitions} partitions, replication ${Math.min(brokers, 3)}`);

  return {
    kafka: bootstrap,
    gatewayUrl: gatewayUrl as string,
    gatewayPid,
    gateways,
    lbUrl,
    brokerPids,
    brokers,
    gatewaySource: ownStack ? describeGatewayCode() : `reused at ${gatewayUrl} (code unknown)`,
    topic,
    partitions: options.partitions,
    ownKafka,
    async close() {
      try {
        // A reused cluster keeps its data; ours disappears with the stack anyway.
        if (!ownKafka) await admin.deleteTopics({ topics: [topic] });
      } finally {
        await admin.close();
        await stopOwnStack();
      }
    },
  };
}

async function createTopic(admin: Admin, topic: string, partitions: number, replicas: number): Promise<void> {
  await admin.createTopics({ topics: [topic], partitions, replicas });
  // Produce must not race the creation: wait until metadata shows every partition.
  for (let attempt = 0; attempt < 50; attempt++) {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    if (metadata.topics.get(topic)?.partitionsCount === partitions) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`topic ${topic} did not show ${partitions} partitions within 5 s`);
}

/** The stack runs packages/gateway from this checkout unless WHARF_STACK_GATEWAY_MAIN names another script. */
function describeGatewayCode(): string {
  const other = process.env.WHARF_STACK_GATEWAY_MAIN;
  if (other) return `${other} (WHARF_STACK_GATEWAY_MAIN)`;
  try {
    const git = (...args: string[]) => execFileSync("git", ["-C", REPO, ...args], { encoding: "utf8" }).trim();
    const dirty = git("status", "--porcelain", "--", "packages/gateway") !== "";
    return `packages/gateway at ${git("rev-parse", "--short", "HEAD")}${dirty ? " plus uncommitted changes" : ""}`;
  } catch {
    return "packages/gateway (revision unknown)";
  }
}
