/**
 * The producing half of the workload: concurrent clients, each sending unique values one request at
 * a time through the load balancer (v2 and v3, single and batched), the way a careful HTTP client
 * would: every request carries an Idempotency-Key (an RFC 8941 sf-string, as the IETF draft has it), a request without an answer or with a retriable
 * status is sent again with the same key and body, and records that failed one by one with a
 * retriable code go out again in a new request (new key: the old key's answer is already final).
 */
import { randomUUID } from "node:crypto";
import { isRetriableRecordCode, isRetriableStatus } from "./checker.ts";
import type { AttemptAnswer, History, RecordResult } from "./history.ts";
import type { HttpClient, HttpOutcome } from "./http.ts";

export type Api = "v2" | "v2-batch" | "v3" | "v3-batch";
const APIS: readonly Api[] = ["v2", "v2-batch", "v3", "v3-batch"];
/** records:batch takes at most 10 entries; v2 could take more, the same size keeps them comparable. */
const BATCH = 5;

export interface ProducerOptions {
  lbUrl: string;
  clusterId: string;
  topic: string;
  /** Prefix of every value, so values of different runs never meet. */
  tag: string;
  producers: number;
  /** Pause between one request's last answer and the next request: keeps the rate modest on a shared machine. */
  pauseMs: number;
  /** Per attempt: the gateway's delivery timeout (30 s) plus room. */
  attemptTimeoutMs: number;
  /** A logical request is given up after this many attempts (it stays in the history as unacknowledged). */
  maxAttempts: number;
}

export interface ProducerRun {
  /** Stops starting new requests; resolves when every producer finished the one it had. */
  stop(): Promise<void>;
}

export function startProducers(http: HttpClient, history: History, options: ProducerOptions): ProducerRun {
  let stopping = false;
  const loops = Array.from({ length: options.producers }, async (_, producer) => {
    let seq = 0;
    for (let n = 0; !stopping; n++) {
      const api = APIS[(producer + n) % APIS.length] as Api;
      const count = api.endsWith("batch") ? BATCH : 1;
      const values = Array.from({ length: count }, () => `${options.tag}-p${producer}-${seq++}`);
      await sendUntilSettled(http, history, options, api, values, () => stopping);
      if (options.pauseMs > 0) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  });
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/**
 * One logical request and its retries. Records failed retriably get a fresh request of their own;
 * after `stopping()` only what is already under way is finished, within maxAttempts.
 */
async function sendUntilSettled(
  http: HttpClient,
  history: History,
  options: ProducerOptions,
  api: Api,
  values: string[],
  stopping: () => boolean,
): Promise<void> {
  let pending = values;
  for (let round = 0; pending.length > 0 && round < options.maxAttempts; round++) {
    const request = randomUUID();
    const idempotencyKey = randomUUID();
    let retry: string[] = [];
    for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
      const startMs = history.now();
      const outcome = await http.call({
        method: "POST",
        url: produceUrl(options, api),
        headers: {
          "content-type": contentType(api),
          accept: "application/json",
          "idempotency-key": `"${idempotencyKey}"`,
        },
        body: produceBody(api, pending),
        timeoutMs: options.attemptTimeoutMs,
      });
      const answer = toAnswer(api, pending, outcome);
      history.add({
        type: "produce",
        request,
        attempt,
        idempotencyKey,
        api,
        values: pending,
        startMs,
        endMs: history.now(),
        answer,
      });
      if (answer.kind === "none" || (answer.status >= 300 && isRetriableStatus(answer.status))) {
        await backoff(attempt);
        continue;
      }
      retry = answer.records.filter((r) => !r.ok && isRetriableRecordCode(r.errorCode)).map((r) => r.value);
      break;
    }
    pending = retry;
    if (pending.length > 0) await backoff(round + 1);
    // Once stopping, records that still fail are left as they are: the history shows them unacknowledged.
    if (stopping() && round >= 2) break;
  }
}

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));

function produceUrl(options: ProducerOptions, api: Api): string {
  const topic = encodeURIComponent(options.topic);
  if (api.startsWith("v2")) return `${options.lbUrl}/topics/${topic}`;
  const base = `${options.lbUrl}/v3/clusters/${encodeURIComponent(options.clusterId)}/topics/${topic}`;
  return api === "v3" ? `${base}/records` : `${base}/records:batch`;
}

const contentType = (api: Api) => (api.startsWith("v2") ? "application/vnd.kafka.json.v2+json" : "application/json");

function produceBody(api: Api, values: string[]): unknown {
  if (api.startsWith("v2")) return { records: values.map((value) => ({ value })) };
  const entry = (value: string) => ({ value: { type: "JSON", data: value } });
  if (api === "v3") return entry(values[0] as string);
  return { entries: values.map((value, i) => ({ id: String(i), ...entry(value) })) };
}

type Answer = Extract<HttpOutcome, { kind: "answer" }>;

/** Reads the per-record results of any of the four answers; a whole-request failure has none. */
export function toAnswer(
  api: Api,
  values: string[],
  outcome: HttpOutcome,
): { kind: "none"; error: string; sent: boolean } | Extract<AttemptAnswer, { kind: "answer" }> {
  if (outcome.kind === "none") return outcome;
  const json = (outcome.json ?? {}) as Record<string, unknown>;
  const errorCode = typeof json.error_code === "number" ? json.error_code : null;
  const whole = { kind: "answer" as const, status: outcome.status, errorCode, records: [] };
  if (outcome.status >= 300 && !(api === "v3-batch" && outcome.status === 207)) {
    const message = typeof json.message === "string" ? json.message : outcome.text.slice(0, 200);
    return { ...whole, message };
  }
  try {
    return { ...whole, records: recordResults(api, values, outcome) };
  } catch {
    // A 2xx whose body is not what the API promises: no record counts as acknowledged.
    return { ...whole, status: 502, errorCode: null };
  }
}

function recordResults(api: Api, values: string[], outcome: Answer): RecordResult[] {
  const result = (value: string, code: number | null, partition: unknown, offset: unknown): RecordResult =>
    code === null && typeof partition === "number" && typeof offset === "number"
      ? { value, ok: true, partition, offset }
      : { value, ok: false, errorCode: code ?? 0 };
  if (api.startsWith("v2")) {
    const offsets = (outcome.json as { offsets: Array<Record<string, unknown>> }).offsets;
    if (offsets.length !== values.length) throw new Error("offsets do not match the records");
    return values.map((value, i) => {
      const o = offsets[i] as Record<string, unknown>;
      return result(value, (o.error_code as number | null) ?? null, o.partition, o.offset);
    });
  }
  if (api === "v3") {
    // A streaming answer: one report line for the one record sent.
    const report = JSON.parse(outcome.text.trim().split("\r\n")[0] ?? "") as Record<string, unknown>;
    const code = report.error_code === 200 ? null : (report.error_code as number);
    return [result(values[0] as string, code, report.partition_id, report.offset)];
  }
  const body = outcome.json as {
    successes: Array<{ id: string; partition_id: number; offset: number }>;
    failures: Array<{ id: string; error_code: number }>;
  };
  const out: RecordResult[] = [];
  for (const s of body.successes) out.push(result(values[Number(s.id)] as string, null, s.partition_id, s.offset));
  for (const f of body.failures) out.push(result(values[Number(f.id)] as string, f.error_code, null, null));
  if (out.length !== values.length) throw new Error("records:batch results do not match the entries");
  return out;
}
