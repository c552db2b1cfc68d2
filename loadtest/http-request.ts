/** One kind of HTTP request the models send, and how its answer is classified. */
import type { Dispatcher } from "undici";

export interface RequestSpec {
  /** Short name for reports: "POST /topics/t (100 records)". */
  label: string;
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  /** Encoded once and reused by every request: the generator must stay cheap. */
  body: Buffer | null;
  /** Records carried by one request (0 for a request that produces nothing). */
  records: number;
}

export type Outcome = "ok" | "throttled" | "httpError" | "recordError" | "transportError";

export type OutcomeCounts = Record<Outcome, number>;

export const emptyCounts = (): OutcomeCounts => ({
  ok: 0,
  throttled: 0,
  httpError: 0,
  recordError: 0,
  transportError: 0,
});

export const V2_BINARY = "application/vnd.kafka.binary.v2+json";
export const V2 = "application/vnd.kafka.v2+json";

/** A v2 produce request of `count` records, each with no key and `value` as a binary (base64) value. */
export function produceV2Request(topic: string, value: Buffer, count: number): RequestSpec {
  const record = JSON.stringify({ value: value.toString("base64") });
  const body = Buffer.from(`{"records":[${new Array(count).fill(record).join(",")}]}`);
  return {
    label: `POST /topics/{t} ${count} record${count === 1 ? "" : "s"}`,
    method: "POST",
    path: `/topics/${encodeURIComponent(topic)}`,
    headers: { "content-type": V2_BINARY, accept: V2 },
    body,
    records: count,
  };
}

export const V2_JSON = "application/vnd.kafka.json.v2+json";

/**
 * The same as produceV2Request in the JSON embedded format: each value a JSON string of as many
 * characters as `value` has bytes (its base64, cut to length), so Kafka stores a record of about
 * the same size.
 */
export function produceV2JsonRequest(topic: string, value: Buffer, count: number): RequestSpec {
  const text = value.toString("base64").slice(0, value.length);
  const record = JSON.stringify({ value: text });
  const body = Buffer.from(`{"records":[${new Array(count).fill(record).join(",")}]}`);
  return {
    label: `POST /topics/{t} ${count} JSON record${count === 1 ? "" : "s"}`,
    method: "POST",
    path: `/topics/${encodeURIComponent(topic)}`,
    headers: { "content-type": V2_JSON, accept: V2 },
    body,
    records: count,
  };
}

export function healthzRequest(): RequestSpec {
  return { label: "GET /healthz", method: "GET", path: "/healthz", headers: {}, body: null, records: 0 };
}

const OFFSET_KEY = Buffer.from('"offset":');
const SPACE = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * How many records a v2 produce answer acknowledges: the `"offset":` keys followed by a number.
 * Every v2-compatible endpoint answers 200 even when some records failed, but each marks a failed
 * record its own way: Wharf and Confluent with `"offset":null` and an `"error"` message, Karapace
 * the same with a space after the colon, Strimzi Kafka Bridge with an `{"error_code","message"}`
 * object in place of the offset. Counting numeric offsets is the one test that holds for all of
 * them, and a byte scan costs far less than JSON.parse here.
 */
export function acknowledgedRecords(body: Buffer): number {
  let count = 0;
  let at = body.indexOf(OFFSET_KEY);
  while (at !== -1) {
    let i = at + OFFSET_KEY.length;
    while (body[i] === SPACE) i++;
    const c = body[i];
    if (c !== undefined && c >= DIGIT_0 && c <= DIGIT_9) count++;
    at = body.indexOf(OFFSET_KEY, i);
  }
  return count;
}

/**
 * Sends one request and classifies the answer; never throws. Uses undici's raw dispatch rather than
 * `request()`: no stream object per response, which is much cheaper on small answers, and the
 * generator shares two cores with what it measures.
 */
export function send(pool: Dispatcher, spec: RequestSpec): Promise<Outcome> {
  return new Promise((resolve) => {
    const handler = new Answer(spec.records, resolve);
    try {
      pool.dispatch({ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body }, handler);
    } catch {
      resolve("transportError");
    }
  });
}

class Answer implements Dispatcher.DispatchHandler {
  status = 0;
  readonly records: number;
  readonly chunks: Buffer[] | null;
  readonly resolve: (outcome: Outcome) => void;

  constructor(records: number, resolve: (outcome: Outcome) => void) {
    this.records = records;
    this.chunks = records > 0 ? [] : null;
    this.resolve = resolve;
  }

  onRequestStart(): void {}

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks?.push(chunk);
  }

  onResponseEnd(): void {
    this.resolve(classify(this.status, this.records, this.chunks));
  }

  onResponseError(): void {
    this.resolve("transportError");
  }
}

/** A produce answer is "ok" only when it acknowledges every record the request carried. */
export function classify(status: number, records: number, chunks: Buffer[] | null): Outcome {
  if (status === 429) return "throttled";
  if (status < 200 || status >= 300) return "httpError";
  if (records > 0) {
    const body =
      chunks === null ? Buffer.alloc(0) : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    if (acknowledgedRecords(body) < records) return "recordError";
  }
  return "ok";
}
