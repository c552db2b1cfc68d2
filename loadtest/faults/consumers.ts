/**
 * The consuming half of the workload: v2 consumer instances of one group, each driven by its own
 * client loop through the load balancer (so most calls land on a node that forwards them to the
 * owner): read, commit what was read, ask Kafka's committed positions back. A retriable answer is
 * retried; an instance that is gone (404) is created again under the same name and recorded as a
 * failure the client could not act on.
 *
 * A read that failed may still have been answered by the owner: a load balancer or a forwarding
 * node that dies after the owner wrote the records loses them on the way, and the owner counts
 * them as handed out, so a no-body commit would commit records the client never saw (the suite
 * saw such skips after haproxy hard stops and gateway kills). A careful client therefore rewinds
 * after a failed read: every partition of its assignment back to the group's committed offset
 * (the beginning where nothing is committed; auto.offset.reset is earliest), before it reads or
 * commits again. What it had read and not committed comes again, as at-least-once allows.
 */
import type { History } from "./history.ts";
import type { HttpClient, HttpOutcome } from "./http.ts";

const V2 = "application/vnd.kafka.v2+json";
const V2_JSON = "application/vnd.kafka.json.v2+json";

export interface ConsumerOptions {
  lbUrl: string;
  topic: string;
  group: string;
  instances: number;
  /** Longest wait per call: a read waits up to consumer.request.timeout.ms, forwarding adds more. */
  callTimeoutMs: number;
  /** max_bytes per read: small reads mean many commits, so a fault lands between them. */
  maxBytes: number;
}

export interface ConsumerRun {
  /** Records delivered so far per partition: the highest offset + 1 (for "caught up"). */
  positions(): Map<number, number>;
  /** Stops the loops after their current call, commits once more and deletes the instances. */
  stop(): Promise<void>;
}

export async function startConsumers(
  http: HttpClient,
  history: History,
  options: ConsumerOptions,
): Promise<ConsumerRun> {
  const delivered = new Map<number, number>();
  let stopping = false;
  const names = Array.from({ length: options.instances }, (_, i) => `c${i + 1}`);
  const clients = names.map((name) => instanceClient(http, history, options, name, delivered));
  for (const client of clients) await client.open(60_000);
  const loops = clients.map(async (client) => {
    while (!stopping) await client.step();
  });
  return {
    positions: () => new Map(delivered),
    async stop() {
      stopping = true;
      await Promise.all(loops);
      for (const client of clients) await client.close();
    },
  };
}

function instanceClient(
  http: HttpClient,
  history: History,
  options: ConsumerOptions,
  name: string,
  delivered: Map<number, number>,
) {
  const base = `${options.lbUrl}/consumers/${encodeURIComponent(options.group)}/instances/${name}`;
  /** Partitions this instance has received records of: the ones whose committed positions it asks back. */
  const seen = new Set<number>();
  let uncommitted = false;
  let rewind = false;

  /** Sends one call, recording a failure; the answer when it came with the `expected` status. */
  const attempt = async (
    operation: string,
    spec: Parameters<HttpClient["call"]>[0],
    expected: number,
  ): Promise<Extract<HttpOutcome, { kind: "answer" }> | null> => {
    const startMs = history.now();
    const outcome = await http.call(spec);
    if (outcome.kind === "answer" && outcome.status === expected) return outcome;
    record(operation, startMs, outcome);
    if (outcome.kind === "answer" && outcome.status === 404) await open(30_000);
    else await pause(250);
    return null;
  };

  /** Creates (or re-creates) the instance and subscribes it, retrying retriable answers until `timeoutMs`. */
  const open = async (timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const startMs = history.now();
      const created = await http.call({
        method: "POST",
        url: `${options.lbUrl}/consumers/${encodeURIComponent(options.group)}`,
        headers: { "content-type": V2 },
        body: {
          name,
          format: "json",
          "auto.offset.reset": "earliest",
          "auto.commit.enable": "false",
        },
        timeoutMs: options.callTimeoutMs,
      });
      // 409: it exists already (the first create was answered, but the answer was lost): subscribe it.
      const ok = created.kind === "answer" && (created.status === 200 || created.status === 409);
      if (ok) {
        const subscribed = await http.call({
          method: "POST",
          url: `${base}/subscription`,
          headers: { "content-type": V2 },
          body: { topics: [options.topic] },
          timeoutMs: options.callTimeoutMs,
        });
        if (subscribed.kind === "answer" && subscribed.status === 204) return;
        record("subscribe", startMs, subscribed);
      } else {
        record("create", startMs, created);
      }
      if (Date.now() >= deadline) throw new Error(`consumer ${name} could not be created and subscribed`);
      await pause(500);
    }
  };

  const record = (operation: string, startMs: number, outcome: HttpOutcome) => {
    const json = outcome.kind === "answer" ? ((outcome.json ?? {}) as Record<string, unknown>) : {};
    history.add({
      type: "consume-error",
      instance: name,
      operation,
      startMs,
      endMs: history.now(),
      status: outcome.kind === "answer" ? outcome.status : 0,
      errorCode: typeof json.error_code === "number" ? json.error_code : null,
      message: outcome.kind === "answer" ? String(json.message ?? outcome.text.slice(0, 200)) : outcome.error,
    });
  };

  const commit = async () => {
    const startMs = history.now();
    const committed = await attempt(
      "commit",
      { method: "POST", url: `${base}/offsets`, headers: { "content-type": V2 }, timeoutMs: options.callTimeoutMs },
      200,
    );
    if (!committed) return;
    uncommitted = false;
    const asked = await attempt(
      "offsets",
      {
        method: "GET",
        url: `${base}/offsets`,
        headers: { "content-type": V2, accept: V2 },
        body: { partitions: [...seen].map((partition) => ({ topic: options.topic, partition })) },
        timeoutMs: options.callTimeoutMs,
      },
      200,
    );
    if (!asked) return;
    const positions: Record<number, number> = {};
    for (const o of (asked.json as { offsets: Array<{ partition: number; offset: number }> }).offsets) {
      if (o.offset >= 0) positions[o.partition] = o.offset;
    }
    history.add({ type: "commit", instance: name, startMs, endMs: history.now(), positions });
  };

  /** Seeks the instance's assigned partitions back to the group's committed offsets; false when a call failed. */
  const rewound = async (): Promise<boolean> => {
    const json = { "content-type": V2, accept: V2 };
    const assigned = await attempt(
      "rewind",
      { method: "GET", url: `${base}/assignments`, headers: json, timeoutMs: options.callTimeoutMs },
      200,
    );
    if (!assigned) return false;
    const partitions = (assigned.json as { partitions: Array<{ topic: string; partition: number }> }).partitions;
    if (partitions.length === 0) return true;
    const committed = await attempt(
      "rewind",
      { method: "GET", url: `${base}/offsets`, headers: json, body: { partitions }, timeoutMs: options.callTimeoutMs },
      200,
    );
    if (!committed) return false;
    const offsets = (committed.json as { offsets: Array<{ topic: string; partition: number; offset: number }> }).offsets
      .filter((o) => o.offset >= 0)
      .map(({ topic, partition, offset }) => ({ topic, partition, offset }));
    const fresh = partitions.filter((p) => !offsets.some((o) => o.partition === p.partition && o.topic === p.topic));
    const seeks: Array<[string, unknown]> = [];
    if (offsets.length > 0) seeks.push(["positions", { offsets }]);
    if (fresh.length > 0) seeks.push(["positions/beginning", { partitions: fresh }]);
    for (const [path, body] of seeks) {
      const sought = await attempt(
        "rewind",
        {
          method: "POST",
          url: `${base}/${path}`,
          headers: { "content-type": V2 },
          body,
          timeoutMs: options.callTimeoutMs,
        },
        204,
      );
      if (!sought) return false;
    }
    return true;
  };

  return {
    open,
    async step() {
      if (rewind) {
        if (!(await rewound())) return;
        rewind = false;
        uncommitted = false;
      }
      const startMs = history.now();
      const answer = await attempt(
        "read",
        {
          method: "GET",
          url: `${base}/records?max_bytes=${options.maxBytes}`,
          headers: { accept: V2_JSON },
          timeoutMs: options.callTimeoutMs,
        },
        200,
      );
      if (!answer) {
        rewind = true;
        return;
      }
      const raw = answer.json as Array<{ partition: number; offset: number; value: unknown }>;
      const records = raw.map((r) => ({
        partition: r.partition,
        offset: r.offset,
        // The producers send JSON strings; anything else (a readiness probe) is not theirs.
        value: typeof r.value === "string" ? r.value : null,
      }));
      history.add({ type: "read", instance: name, startMs, endMs: history.now(), records });
      for (const r of records) {
        seen.add(r.partition);
        delivered.set(r.partition, Math.max(delivered.get(r.partition) ?? 0, r.offset + 1));
      }
      if (records.length > 0) uncommitted = true;
      if (uncommitted) await commit();
    },
    async close() {
      if (uncommitted) await commit();
      await http.call({
        method: "DELETE",
        url: base,
        headers: { "content-type": V2 },
        timeoutMs: options.callTimeoutMs,
      });
    },
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
