/**
 * What the workload saw, event by event: the only input of the checker besides the topic as Kafka
 * holds it at the end. Kept as plain data so a test can write a history by hand.
 */

/** How one HTTP attempt ended, as the client saw it. */
export type AttemptAnswer =
  /** The request got an answer: per-record results (a whole-request failure has none). */
  | {
      kind: "answer";
      status: number;
      errorCode: number | null;
      /** The error body's message, for the report (absent in histories written before it). */
      message?: string;
      records: RecordResult[];
    }
  /** No HTTP answer. `sent` is false only when the request surely never left (connection refused). */
  | { kind: "none"; error: string; sent: boolean };

export type RecordResult =
  | { value: string; ok: true; partition: number; offset: number }
  | { value: string; ok: false; errorCode: number };

/** One HTTP produce attempt. Attempts of one logical request share `request` and `idempotencyKey`. */
export interface ProduceAttempt {
  type: "produce";
  /** Which logical request (a producer retries it with the same key and body). */
  request: string;
  attempt: number;
  idempotencyKey: string;
  /** "v2", "v2-batch", "v3", "v3-batch". */
  api: string;
  values: string[];
  startMs: number;
  endMs: number;
  answer: AttemptAnswer;
}

/** One GET records of a consumer instance that answered 200 (its records, in the order given). */
export interface ConsumeRead {
  type: "read";
  /** The client-side consumer (it keeps its name across adoptions by other nodes). */
  instance: string;
  startMs: number;
  endMs: number;
  /** `value` is null when it is not a JSON string, i.e. not one of the producers' values. */
  records: { partition: number; offset: number; value: string | null }[];
}

/**
 * The group's committed positions (next offset to read) per partition, as Kafka reported them
 * after a commit answered 200.
 */
export interface CommitObserved {
  type: "commit";
  instance: string;
  startMs: number;
  endMs: number;
  positions: Record<number, number>;
}

/** A consumer request that failed: status 0 means no answer. */
export interface ConsumeFailure {
  type: "consume-error";
  instance: string;
  /** "read", "commit", "offsets", "create", "subscribe". */
  operation: string;
  startMs: number;
  endMs: number;
  status: number;
  errorCode: number | null;
  message: string;
}

/** A fault the nemesis injected or healed (for recovery times and the report). */
export interface NemesisEvent {
  type: "nemesis";
  /** "inject" starts a fault, "heal" ends it. */
  phase: "inject" | "heal";
  what: string;
  atMs: number;
}

export type HistoryEvent = ProduceAttempt | ConsumeRead | CommitObserved | ConsumeFailure | NemesisEvent;

/** The append-only log one scenario writes; times are ms on one monotonic clock. */
export interface History {
  readonly events: HistoryEvent[];
  add(event: HistoryEvent): void;
  now(): number;
}

export function createHistory(clock: () => number = () => performance.now()): History {
  const events: HistoryEvent[] = [];
  return {
    events,
    add: (event) => {
      events.push(event);
    },
    now: clock,
  };
}

/** A record as Kafka holds it, read back at the end without the gateway. */
export interface StoredRecord {
  partition: number;
  offset: number;
  /** The value as the producers wrote it (a JSON string), or null when it is not one of theirs. */
  value: string | null;
}
