/**
 * The verdict over one scenario's whole history and the topic as Kafka holds it afterwards
 * (Jepsen's queue checker, adapted to what a 200 from Wharf promises):
 * - lost: a value acknowledged with an offset that is nowhere in the topic;
 * - wrong offset: an acknowledged value that is in the topic, but not at the acknowledged place;
 * - duplicate: one value at two or more offsets (each extra copy counts once), told apart by
 *   whether the value was ever sent more than once (a client retry may write twice until
 *   Idempotency-Key dedupes it) or only once (then something under the client wrote it twice);
 * - skip: a record below the group's committed position that no consumer instance ever got;
 * - reorder: a record delivered again although the group had already committed past it, or a
 *   partition going backwards inside one answer;
 * - unanswered: an attempt that got neither an answer nor a clear "not sent" (connection refused).
 * Pure: no I/O, so it is unit-tested on hand-made histories.
 */
import type {
  CommitObserved,
  ConsumeFailure,
  ConsumeRead,
  HistoryEvent,
  NemesisEvent,
  ProduceAttempt,
  StoredRecord,
} from "./history.ts";

/** Statuses a client can act on by retrying (409: an Idempotency-Key still in flight). */
const RETRIABLE_STATUSES = new Set([408, 409, 429, 502, 503, 504]);
/** Per-record codes that say "send it again": Kafka retriable, leader not available, throttled. */
const RETRIABLE_RECORD_CODES = new Set([50003, 40404, 429, 503, 408]);

export const isRetriableStatus = (status: number) => RETRIABLE_STATUSES.has(status);
export const isRetriableRecordCode = (code: number) => RETRIABLE_RECORD_CODES.has(code);

export interface Verdict {
  /** Logical produce requests (a request and its retries count once). */
  requests: number;
  attempts: number;
  /** Distinct values acknowledged with an offset. */
  acknowledged: number;
  lost: number;
  wrongOffsets: number;
  /** Extra copies in the topic (a value at 3 offsets counts 2). */
  duplicates: number;
  /** Of those, copies of values that were sent more than once. */
  duplicatesFromRetries: number;
  /** Failures the client could act on by retrying: whole requests and single records. */
  retriableErrors: number;
  /** Failures it could not: any other status or per-record code (the target is 0). */
  nonRetriableErrors: number;
  /** Attempts with no answer although the request may have been sent. */
  unanswered: number;
  /** Values never acknowledged that Kafka holds anyway (allowed: the client was told to retry). */
  unacknowledgedStored: number;
  /** Records in the topic that no producer sent. */
  foreign: number;
  /** Records delivered to consumer instances (with redeliveries). */
  consumed: number;
  /** Records delivered again at or after the committed position (allowed). */
  redelivered: number;
  skips: number;
  reorders: number;
  /** Delivered records whose value is not what Kafka holds at that offset. */
  misdelivered: number;
  /** Times a partition's committed position was seen lower than an earlier observation of it. */
  commitRegressions: number;
  consumerRetriableErrors: number;
  consumerNonRetriableErrors: number;
  /** Failed consumer requests by how they failed: "read 503/50301", "commit 0" (no answer)... */
  consumerFailures: Record<string, number>;
  /**
   * The longest time one instance went from a failed request to its next success (a read or an
   * observed commit): how long consumers were kept waiting. 0 when nothing failed.
   */
  consumerOutageMs: number;
  /** Instances that answered no read after the last fault healed (the target: none). */
  idleAfterFaults: string[];
  /** Failed produce attempts by how they failed: "503/50301", "record 50003", "none"... */
  produceFailures: Record<string, number>;
  /** The longest produce attempt, however it ended: what a fault that fails nothing still costs. */
  produceMaxMs: number;
  faults: number;
  /** Longest time from a fault until a produce attempt sent after it was acknowledged; null: never. */
  recoveryMs: number | null;
  /** The same for a consumer read that returned records. */
  consumeRecoveryMs: number | null;
  /** A few examples per anomaly, for the report. */
  examples: Record<string, string[]>;
}

const MAX_EXAMPLES = 5;

export function check(events: readonly HistoryEvent[], stored: readonly StoredRecord[]): Verdict {
  const produce = events.filter((e): e is ProduceAttempt => e.type === "produce");
  const reads = events.filter((e): e is ConsumeRead => e.type === "read");
  const commits = events.filter((e): e is CommitObserved => e.type === "commit");
  const consumeErrors = events.filter((e): e is ConsumeFailure => e.type === "consume-error");
  const injects = events.filter((e): e is NemesisEvent => e.type === "nemesis" && e.phase === "inject");

  const examples: Record<string, string[]> = {};
  const note = (kind: string, text: string) => {
    const list = examples[kind] ?? [];
    if (list.length < MAX_EXAMPLES) list.push(text);
    examples[kind] = list;
  };

  const placesOf = new Map<string, StoredRecord[]>();
  const byPlace = new Map<string, StoredRecord>();
  for (const record of stored) {
    byPlace.set(place(record.partition, record.offset), record);
    if (record.value === null) continue;
    const list = placesOf.get(record.value) ?? [];
    list.push(record);
    placesOf.set(record.value, list);
  }

  const produced = producerFigures(produce, placesOf, byPlace, note);
  const consumed = consumerFigures(reads, commits, stored, byPlace, note);

  let consumerRetriableErrors = 0;
  let consumerNonRetriableErrors = 0;
  const consumerFailures: Record<string, number> = {};
  for (const failure of consumeErrors) {
    const how = `${failure.operation} ${failure.status}${failure.errorCode === null ? "" : `/${failure.errorCode}`}`;
    consumerFailures[how] = (consumerFailures[how] ?? 0) + 1;
    if (failure.status === 0 || isRetriableStatus(failure.status)) consumerRetriableErrors++;
    else {
      consumerNonRetriableErrors++;
      note("consumerNonRetriable", `${failure.instance} ${failure.operation}: ${failure.status} ${failure.message}`);
    }
  }

  return {
    ...produced,
    ...consumed,
    foreign: stored.filter((r) => r.value === null).length,
    consumerRetriableErrors,
    consumerNonRetriableErrors,
    consumerFailures,
    consumerOutageMs: longestOutage(reads, commits, consumeErrors),
    idleAfterFaults: idleAfter(events, reads, commits, consumeErrors),
    faults: injects.length,
    recoveryMs: recovery(injects, produce, (a) => a.answer.kind === "answer" && a.answer.records.some((r) => r.ok)),
    consumeRecoveryMs: recovery(injects, reads, (r) => r.records.length > 0),
    examples,
  };
}

type Note = (kind: string, text: string) => void;

function producerFigures(
  attempts: ProduceAttempt[],
  placesOf: Map<string, StoredRecord[]>,
  byPlace: Map<string, StoredRecord>,
  note: Note,
) {
  const requests = new Set<string>();
  /** How many attempts carried each value, over all requests (a producer may resend a record in a new request). */
  const sends = new Map<string, number>();
  const acked = new Map<string, Array<{ partition: number; offset: number }>>();
  let retriableErrors = 0;
  let nonRetriableErrors = 0;
  let unanswered = 0;
  let produceMaxMs = 0;
  const produceFailures: Record<string, number> = {};
  const failure = (how: string) => {
    produceFailures[how] = (produceFailures[how] ?? 0) + 1;
  };

  for (const attempt of attempts) {
    requests.add(attempt.request);
    produceMaxMs = Math.max(produceMaxMs, attempt.endMs - attempt.startMs);
    for (const value of attempt.values) sends.set(value, (sends.get(value) ?? 0) + 1);
    const answer = attempt.answer;
    if (answer.kind === "none") {
      failure(answer.sent ? "no answer" : "refused");
      if (answer.sent) {
        unanswered++;
        note("unanswered", `${attempt.request}#${attempt.attempt} (${attempt.api}): ${answer.error}`);
      } else {
        retriableErrors++;
      }
      continue;
    }
    if (answer.status >= 300) {
      const how = `${answer.status}${answer.errorCode === null ? "" : `/${answer.errorCode}`}`;
      failure(how);
      note(
        "produceFailure",
        `${attempt.request}#${attempt.attempt} (${attempt.api}) at ${attempt.startMs}..${attempt.endMs} ms: ${how} ${answer.message ?? ""}`,
      );
      if (isRetriableStatus(answer.status)) retriableErrors++;
      else {
        nonRetriableErrors++;
        note(
          "nonRetriable",
          `${attempt.request}#${attempt.attempt} (${attempt.api}): HTTP ${answer.status} ${answer.errorCode}`,
        );
      }
      continue;
    }
    for (const result of answer.records) {
      if (result.ok) {
        const list = acked.get(result.value) ?? [];
        list.push({ partition: result.partition, offset: result.offset });
        acked.set(result.value, list);
      } else if (isRetriableRecordCode(result.errorCode)) {
        failure(`record ${result.errorCode}`);
        retriableErrors++;
      } else {
        failure(`record ${result.errorCode}`);
        nonRetriableErrors++;
        note("nonRetriable", `${result.value} (${attempt.api}): record error ${result.errorCode}`);
      }
    }
  }

  let lost = 0;
  let wrongOffsets = 0;
  for (const [value, places] of acked) {
    if (!placesOf.has(value)) {
      lost++;
      note("lost", `${value} acknowledged at ${places.map((p) => place(p.partition, p.offset)).join(", ")}`);
      continue;
    }
    for (const p of places) {
      const there = byPlace.get(place(p.partition, p.offset));
      if (there?.value !== value) {
        wrongOffsets++;
        note(
          "wrongOffsets",
          `${value} acknowledged at ${place(p.partition, p.offset)}, which holds ${there?.value ?? "nothing"}`,
        );
      }
    }
  }

  let duplicates = 0;
  let duplicatesFromRetries = 0;
  let unacknowledgedStored = 0;
  for (const [value, places] of placesOf) {
    if (!sends.has(value)) continue;
    if (!acked.has(value)) unacknowledgedStored++;
    if (places.length < 2) continue;
    const extra = places.length - 1;
    duplicates += extra;
    const retried = (sends.get(value) ?? 0) > 1;
    if (retried) duplicatesFromRetries += extra;
    note(
      retried ? "duplicatesFromRetries" : "duplicates",
      `${value} at ${places.map((r) => place(r.partition, r.offset)).join(", ")}`,
    );
  }

  return {
    requests: requests.size,
    attempts: attempts.length,
    acknowledged: acked.size,
    lost,
    wrongOffsets,
    duplicates,
    duplicatesFromRetries,
    retriableErrors,
    nonRetriableErrors,
    unanswered,
    unacknowledgedStored,
    produceFailures,
    produceMaxMs: Math.round(produceMaxMs),
  };
}

function consumerFigures(
  reads: ConsumeRead[],
  commits: CommitObserved[],
  stored: readonly StoredRecord[],
  byPlace: Map<string, StoredRecord>,
  note: Note,
) {
  // Records count as delivered from the moment their answer arrived; the committed position that
  // binds a read is the one known when the read was sent.
  const ordered = [...reads].sort((a, b) => a.endMs - b.endMs);
  const delivered = new Set<string>();
  let consumed = 0;
  let redelivered = 0;
  let reorders = 0;
  let misdelivered = 0;

  for (const read of ordered) {
    const last = new Map<number, number>();
    for (const record of read.records) {
      consumed++;
      const key = place(record.partition, record.offset);
      const there = byPlace.get(key);
      if (there && there.value !== record.value) {
        misdelivered++;
        note("misdelivered", `${read.instance} got ${record.value} at ${key}, Kafka holds ${there.value}`);
      }
      const previous = last.get(record.partition);
      if (previous !== undefined && record.offset <= previous) {
        reorders++;
        note("reorders", `${read.instance} got ${key} after offset ${previous} in one answer`);
      } else if (delivered.has(key)) {
        const committed = committedAt(commits, record.partition, read.startMs);
        if (record.offset < committed) {
          reorders++;
          note("reorders", `${read.instance} got ${key} again, the group had committed ${committed}`);
        } else {
          redelivered++;
        }
      }
      last.set(record.partition, record.offset);
      delivered.add(key);
    }
  }

  const finalCommitted = new Map<number, number>();
  for (const commit of commits) {
    for (const [partition, position] of Object.entries(commit.positions)) {
      const p = Number(partition);
      finalCommitted.set(p, Math.max(finalCommitted.get(p) ?? 0, position));
    }
  }
  const commitRegressions = regressions(commits, note);
  let skips = 0;
  for (const record of stored) {
    const committed = finalCommitted.get(record.partition) ?? 0;
    if (record.offset < committed && !delivered.has(place(record.partition, record.offset))) {
      skips++;
      note("skips", `${place(record.partition, record.offset)} (${record.value}) is below the committed ${committed}`);
    }
  }
  return { consumed, redelivered, skips, reorders, misdelivered, commitRegressions };
}

/**
 * Observations of a partition's committed position that are lower than one that had been
 * answered before they were sent. Two that overlap in time prove nothing: Kafka may have answered
 * the one that arrived last first, before the other instance's commit.
 */
function regressions(commits: CommitObserved[], note: Note): number {
  const byEnd = [...commits].sort((a, b) => a.endMs - b.endMs);
  const known = new Map<number, number>();
  let answered = 0;
  let count = 0;
  for (const commit of [...commits].sort((a, b) => a.startMs - b.startMs)) {
    for (; answered < byEnd.length && (byEnd[answered] as CommitObserved).endMs < commit.startMs; answered++) {
      for (const [partition, position] of Object.entries((byEnd[answered] as CommitObserved).positions)) {
        known.set(Number(partition), Math.max(known.get(Number(partition)) ?? 0, position));
      }
    }
    for (const [partition, position] of Object.entries(commit.positions)) {
      const before = known.get(Number(partition)) ?? 0;
      if (position >= before) continue;
      count++;
      note(
        "commitRegressions",
        `${commit.instance} saw partition ${partition} committed at ${position}, earlier ${before}`,
      );
    }
  }
  return count;
}

/** The highest position of `partition` any commit observed before `atMs` reported. */
function committedAt(commits: CommitObserved[], partition: number, atMs: number): number {
  let position = 0;
  for (const commit of commits) {
    if (commit.endMs > atMs) continue;
    position = Math.max(position, commit.positions[partition] ?? 0);
  }
  return position;
}

type InstanceEvent = ConsumeRead | CommitObserved | ConsumeFailure;

/** Per instance, the longest span from a failed request's start to the end of the next success. */
function longestOutage(reads: ConsumeRead[], commits: CommitObserved[], failures: ConsumeFailure[]): number {
  const byInstance = new Map<string, InstanceEvent[]>();
  for (const e of [...reads, ...commits, ...failures]) {
    const list = byInstance.get(e.instance) ?? [];
    list.push(e);
    byInstance.set(e.instance, list);
  }
  let worst = 0;
  for (const list of byInstance.values()) {
    let failingSince: number | null = null;
    for (const e of list.sort((a, b) => a.endMs - b.endMs)) {
      if (e.type === "consume-error") failingSince ??= e.startMs;
      else if (failingSince !== null) {
        worst = Math.max(worst, e.endMs - failingSince);
        failingSince = null;
      }
    }
    // Still failing when the history ends: the outage lasted at least until then.
    const last = list[list.length - 1];
    if (failingSince !== null && last) worst = Math.max(worst, last.endMs - failingSince);
  }
  return Math.round(worst);
}

/**
 * Instances (every one that appears in the history) with no read answered after the last heal
 * (or the last fault, if nothing healed): a consumer that a fault left unable to serve.
 */
function idleAfter(
  events: readonly HistoryEvent[],
  reads: ConsumeRead[],
  commits: CommitObserved[],
  failures: ConsumeFailure[],
): string[] {
  let since = Number.NEGATIVE_INFINITY;
  for (const e of events) if (e.type === "nemesis") since = Math.max(since, e.atMs);
  if (since === Number.NEGATIVE_INFINITY) return [];
  const instances = new Set([...reads, ...commits, ...failures].map((e) => e.instance));
  for (const read of reads) if (read.startMs >= since) instances.delete(read.instance);
  return [...instances].sort();
}

function recovery<T extends { startMs: number; endMs: number }>(
  injects: NemesisEvent[],
  events: T[],
  succeeded: (event: T) => boolean,
): number | null {
  let worst = 0;
  for (const inject of injects) {
    let first = Number.POSITIVE_INFINITY;
    for (const event of events) {
      if (event.startMs >= inject.atMs && event.endMs < first && succeeded(event)) first = event.endMs;
    }
    if (first === Number.POSITIVE_INFINITY) return null;
    worst = Math.max(worst, first - inject.atMs);
  }
  return Math.round(worst);
}

const place = (partition: number, offset: number) => `${partition}/${offset}`;
