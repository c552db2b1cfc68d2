/**
 * One scenario from start to verdict on a running stack: a fresh topic (replication factor 3,
 * min.insync.replicas 2) and consumer group, the workload, the nemesis, a drain until the consumers
 * caught up, the read-back straight from Kafka, and the checker. Used by the CLI and the CI test.
 */
import { randomUUID } from "node:crypto";
import type { StackInfo } from "../../deploy/stack/index.ts";
import { check, type Verdict } from "./checker.ts";
import { startConsumers } from "./consumers.ts";
import { createHistory, type History, type HistoryEvent, type StoredRecord } from "./history.ts";
import { createHttpClient, type HttpClient } from "./http.ts";
import { createKafkaView } from "./kafka-view.ts";
import { startProducers } from "./producers.ts";
import type { Scenario } from "./scenarios.ts";

export interface RunOptions {
  short: boolean;
  log: (message: string) => void;
  producers?: number;
  consumers?: number;
  /** The topic's replication factor; default: the stack's brokers, at most 3 (a stack on a reused Kafka lists none). */
  replication?: number;
}

export interface ScenarioResult {
  name: string;
  description: string;
  topic: string;
  durationMs: number;
  verdict: Verdict;
  /** Consumers reached the end of every partition before the drain timed out. */
  drained: boolean;
  /** The nemesis or the harness failed: the figures are incomplete. */
  error: string | null;
  /** The scenario's own targets on top of the common ones. */
  produceUnaffected: boolean;
  /** What the checker read, for a post-mortem (`pnpm faults --history DIR`). */
  evidence: { events: HistoryEvent[]; stored: StoredRecord[] };
}

const PARTITIONS = 3;
const DRAIN_TIMEOUT_MS = 120_000;
const CONDITION_TIMEOUT_MS = 60_000;

export async function runScenario(stack: StackInfo, scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  if (!stack.lb) throw new Error("the fault suite needs a stack with a load balancer");
  const lbUrl = stack.lb;
  const log = (message: string) => options.log(`[${scenario.name}] ${message}`);
  const started = Date.now();
  const producers = options.producers ?? 6;
  const instances = options.consumers ?? 3;
  const http = createHttpClient(producers + instances * 2 + 4);
  const view = await createKafkaView(stack.kafka);
  const history = createHistory();
  const tag = `${scenario.name}-${randomUUID().slice(0, 8)}`;
  const topic = `faults-${tag}`;
  let error: string | null = null;
  let drained = false;
  try {
    await waitHealthy(http, stack);
    const replication = options.replication ?? Math.min(stack.brokers.length, 3);
    const clusterId = await createTopic(http, lbUrl, topic, replication);
    await view.endOffsets(topic, CONDITION_TIMEOUT_MS);
    await waitKnownEverywhere(http, stack, topic);
    log(`topic ${topic} ready`);

    const consumers = await startConsumers(http, history, {
      lbUrl,
      topic,
      group: `faults-${tag}`,
      instances,
      callTimeoutMs: 60_000,
      maxBytes: 16_384,
    });
    const production = startProducers(http, history, {
      lbUrl,
      clusterId,
      topic,
      tag,
      producers,
      pauseMs: 20,
      attemptTimeoutMs: 45_000,
      maxAttempts: 40,
    });
    try {
      // Steady state first: acknowledgements and deliveries flowing, so the fault meets a live workload.
      await waitFor("a first acknowledgement and delivery", () => flowing(history, 0), CONDITION_TIMEOUT_MS);
      await sleep(options.short ? 2000 : 4000);
      try {
        await scenario.nemesis({ stack, view, topic, history, log, short: options.short });
      } catch (e) {
        error = `nemesis: ${e instanceof Error ? e.message : String(e)}`;
        log(error);
      }
      const healed = history.now();
      await waitFor("acknowledgements after the fault", () => flowing(history, healed), DRAIN_TIMEOUT_MS).catch(
        (e: Error) => {
          error ??= e.message;
        },
      );
      await sleep(options.short ? 2000 : 4000);
    } finally {
      await production.stop();
    }
    log("producers stopped, draining consumers");
    const ends = await view.endOffsets(topic, CONDITION_TIMEOUT_MS);
    drained = await waitFor(
      "consumers at the end of every partition",
      () => [...ends].every(([p, end]) => (consumers.positions().get(p) ?? 0) >= end),
      DRAIN_TIMEOUT_MS,
    ).then(
      () => true,
      () => false,
    );
    await consumers.stop();
    const stored = await view.readAll(topic, DRAIN_TIMEOUT_MS);
    const verdict = check(history.events, stored);
    return {
      name: scenario.name,
      description: scenario.description,
      produceUnaffected: scenario.produceUnaffected === true,
      topic,
      durationMs: Date.now() - started,
      verdict,
      drained,
      error,
      evidence: { events: history.events, stored },
    };
  } catch (e) {
    // The harness itself failed (stack not healthy, topic not created): the checker still says what it can.
    error = `${error ? `${error}; ` : ""}${e instanceof Error ? e.message : String(e)}`;
    const stored = await view.readAll(topic, 30_000).catch(() => []);
    return {
      name: scenario.name,
      description: scenario.description,
      produceUnaffected: scenario.produceUnaffected === true,
      topic,
      durationMs: Date.now() - started,
      verdict: check(history.events, stored),
      drained,
      error,
      evidence: { events: history.events, stored },
    };
  } finally {
    await view.close();
    await http.close();
  }
}

/** An acknowledgement and a delivery, both of requests sent after `sinceMs`. */
function flowing(history: History, sinceMs: number): boolean {
  let acked = false;
  let read = false;
  for (let i = history.events.length - 1; i >= 0 && !(acked && read); i--) {
    const e = history.events[i];
    if (!e) continue;
    if (
      e.type === "produce" &&
      e.startMs >= sinceMs &&
      e.answer.kind === "answer" &&
      e.answer.records.some((r) => r.ok)
    )
      acked = true;
    if (e.type === "read" && e.startMs >= sinceMs && e.records.length > 0) read = true;
  }
  return acked && read;
}

/** Every gateway ready on its own port, and the load balancer routing. */
async function waitHealthy(http: HttpClient, stack: StackInfo): Promise<void> {
  const urls = [...stack.gateways.map((g) => g.url), stack.lb as string];
  for (const url of urls) {
    await waitFor(
      `${url}/readyz`,
      async () => {
        const answer = await http.call({ method: "GET", url: `${url}/readyz`, timeoutMs: 5000 });
        return answer.kind === "answer" && answer.status === 200;
      },
      CONDITION_TIMEOUT_MS,
    );
  }
}

/**
 * Waits until every gateway can produce to the new topic. Brokers learn of a topic at different
 * moments; a consumer that subscribes through a gateway whose broker does not know the topic yet
 * gets nothing until librdkafka's next metadata refresh (topic.metadata.refresh.interval.ms, 5 min
 * by default), and a producer gets 404. The probes are JSON objects, which the checker counts as
 * foreign records, not as the producers' values.
 */
async function waitKnownEverywhere(http: HttpClient, stack: StackInfo, topic: string): Promise<void> {
  for (const gateway of stack.gateways) {
    await waitFor(
      `${gateway.id} producing to ${topic}`,
      async () => {
        const answer = await http.call({
          method: "POST",
          url: `${gateway.url}/topics/${encodeURIComponent(topic)}`,
          headers: { "content-type": "application/vnd.kafka.json.v2+json" },
          body: { records: [{ value: { probe: gateway.id } }] },
          timeoutMs: 30_000,
        });
        return answer.kind === "answer" && answer.status === 200 && !answer.text.includes('"error_code":5');
      },
      CONDITION_TIMEOUT_MS,
    );
  }
}

async function createTopic(http: HttpClient, lbUrl: string, topic: string, replication: number): Promise<string> {
  const clusters = await http.call({ method: "GET", url: `${lbUrl}/v3/clusters`, timeoutMs: 30_000 });
  const clusterId =
    clusters.kind === "answer"
      ? (clusters.json as { data?: Array<{ cluster_id: string }> }).data?.[0]?.cluster_id
      : undefined;
  if (!clusterId) throw new Error(`GET /v3/clusters did not name a cluster: ${JSON.stringify(clusters)}`);
  const created = await http.call({
    method: "POST",
    url: `${lbUrl}/v3/clusters/${clusterId}/topics`,
    body: {
      topic_name: topic,
      partitions_count: PARTITIONS,
      replication_factor: replication,
      configs: [{ name: "min.insync.replicas", value: String(Math.min(2, replication)) }],
    },
    timeoutMs: 30_000,
  });
  if (created.kind !== "answer" || created.status !== 201) {
    throw new Error(
      `creating ${topic}: ${created.kind === "answer" ? `${created.status} ${created.text}` : created.error}`,
    );
  }
  return clusterId;
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
