/**
 * The event stream of a v2 consumer instance (GET records with Accept: text/event-stream).
 *
 * Records are taken with ConsumerInstance.readInto, so a record counts as delivered (and with
 * auto-commit its offset is stored) only once its event is written to the response, exactly as
 * a plain read stores offsets only for records it returns.
 *
 * The cursor names every partition assigned to the instance from before the first record of it
 * is sent (see #nameAssigned), so the client's last id says where each one continues.
 *
 * Resume: the client's Last-Event-ID is a cursor of next offsets. The instance may sit anywhere
 * on those partitions: it was adopted after its node died and restarted at the group's committed
 * offsets (behind the cursor, or past it when auto-commit covered events the client never got),
 * or it already read past them for a stream that broke. So each cursor partition is sought to
 * the cursor's offset as soon as it is assigned to the instance (and, should a record of it
 * arrive first, when that record is not the expected one): the stream continues right after the
 * last event the client received, neither skipping nor repeating.
 */
import type { Context } from "hono";
import { ErrorCode, RestError } from "../../errors.ts";
import type { ConsumedMessage, ConsumerInstance, TopicPartitionOffset } from "../../kafka/consumer-instance.ts";
import type { Metrics } from "../../metrics.ts";
import type { Schemas } from "../../schemas/index.ts";
import { Cursor } from "./cursor.ts";
import { EventStream, outgoingOf, type StreamSettings, type StreamSource, type StreamWrite } from "./event-stream.ts";
import { prepareRecords, recordEvent, recordJson } from "./record-event.ts";
import type { StreamRegistry } from "./streams.ts";

/** A read holds the instance's operation chain this long at most, so commits and seeks interleave. */
const READ_SLICE_MS = 500;

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** The Last-Event-ID header, or `last_event_id` for clients that cannot set headers. */
export function lastEventId(c: Context): string | null {
  return c.req.header("last-event-id") ?? c.req.query("last_event_id") ?? null;
}

export interface ConsumerStreamDeps {
  settings: StreamSettings;
  metrics: Metrics;
  streams: StreamRegistry;
  /** Decodes the schema formats; null without a Schema Registry. */
  schemas?: Schemas | null;
}

export function consumerEventStream(c: Context, instance: ConsumerInstance, deps: ConsumerStreamDeps): Response {
  if (instance.subscription.kind === "none") {
    throw new RestError(
      409,
      ErrorCode.IllegalState,
      "Illegal state: Consumer is not subscribed to any topics or assigned any partitions",
    );
  }
  const resumeFrom = lastEventId(c);
  const cursor = Cursor.parse(resumeFrom ?? "");
  deps.streams.admit();
  if (cursor.size > 0) deps.metrics.sseResumes.inc({ kind: "consumer" });
  const { group, name } = instance.settings;
  const stream = new EventStream({
    kind: "consumer",
    source: new ConsumerStreamSource(instance, cursor, deps.schemas ?? null),
    settings: deps.settings,
    metrics: deps.metrics,
    tracker: deps.streams,
    outgoing: outgoingOf(c),
    exclusiveKey: `${group}\u0000${name}`,
  });
  return stream.response();
}

export class ConsumerStreamSource implements StreamSource {
  readonly #instance: ConsumerInstance;
  readonly #cursor: Cursor;
  /** Cursor partitions from the client, not yet sought to the cursor's offset. */
  readonly #unchecked: Set<string>;
  /** Partitions whose cursor offset follows records already sent (here or before a resume). */
  readonly #sent: Set<string>;
  /** When a partition's start position was last looked up without an answer. */
  readonly #unknownSince = new Map<string, number>();
  /** The cursor gained partitions that no written event carries yet. */
  #cursorAhead = false;
  #closed = false;
  #pumping: Promise<unknown> = Promise.resolve();

  readonly #schemas: Schemas | null;

  constructor(instance: ConsumerInstance, cursor: Cursor, schemas: Schemas | null = null) {
    this.#instance = instance;
    this.#schemas = schemas;
    this.#cursor = cursor;
    this.#unchecked = new Set(cursor.positions().map((p) => keyOf(p.topic, p.partition)));
    this.#sent = new Set(this.#unchecked);
  }

  pump(waitMs: number, maxBytes: number, write: StreamWrite): Promise<number> {
    const run = this.#pump(waitMs, maxBytes, write);
    this.#pumping = run.catch(() => {});
    return run;
  }

  async #pump(waitMs: number, maxBytes: number, write: StreamWrite): Promise<number> {
    const deadline = Date.now() + waitMs;
    let written = 0;
    while (written === 0 && !this.#closed) {
      if (this.#unchecked.size > 0) await this.#seekAssigned();
      await this.#nameAssigned();
      // An event with only an id moves the client's Last-Event-ID without a message.
      if (this.#cursorAhead) {
        if (!write(`id: ${this.#cursor}\n\n`, 0)) break;
        this.#cursorAhead = false;
      }
      const slice = Math.min(READ_SLICE_MS, deadline - Date.now());
      if (slice <= 0) break;
      const seeks: TopicPartitionOffset[] = [];
      let refused = false;
      await this.#instance.readInto(slice, maxBytes, async (messages) => {
        // The group assigned partitions during this read: name them first, send after.
        if (this.#unnamed().length > 0) return { taken: 0, delivered: [] };
        // A registry that is down throws here: every record goes back, the stream ends with an error.
        await prepareRecords(this.#instance.settings.format, this.#schemas, messages);
        const batch = this.#select(messages, maxBytes, seeks);
        if (batch.events.length > 0 && !write(batch.events.join(""), batch.events.length)) {
          refused = true;
          return null;
        }
        written += batch.events.length;
        return { taken: batch.taken, delivered: batch.delivered };
      });
      // The stream has gone: what the read took went back to the instance.
      if (refused) break;
      if (seeks.length > 0) {
        // The partition may have been revoked meanwhile: its new owner starts from the commit.
        await this.#instance.seek(seeks).catch(() => {});
      }
    }
    return written;
  }

  /** Seeks the client's cursor partitions that the group has assigned to the instance by now. */
  async #seekAssigned(): Promise<void> {
    for (const { topic, partition } of this.#instance.assignments()) {
      const key = keyOf(topic, partition);
      const offset = this.#cursor.get(topic, partition);
      if (offset === undefined || !this.#unchecked.delete(key)) continue;
      try {
        await this.#instance.seek([{ topic, partition, offset }]);
      } catch {
        // Not ready for a seek yet (or revoked meanwhile): try again on the next round.
        this.#unchecked.add(key);
      }
    }
  }

  /**
   * Puts every assigned partition in the cursor at the position it continues from, before
   * anything of it is sent. Auto-commit stores offsets as events are written, not as the client
   * receives them; a partition the client's Last-Event-ID did not name would resume from the
   * commit and skip what was written but never received.
   */
  async #nameAssigned(): Promise<void> {
    const now = Date.now();
    const unnamed = this.#unnamed(now);
    if (unnamed.length === 0) return;
    const positions = await this.#instance.nextPositions(unnamed).catch(() => []);
    for (const p of unnamed) this.#unknownSince.set(keyOf(p.topic, p.partition), now);
    for (const p of positions) {
      if (this.#cursor.get(p.topic, p.partition) !== undefined) continue;
      this.#unknownSince.delete(keyOf(p.topic, p.partition));
      this.#cursor.set(p.topic, p.partition, p.offset);
      this.#cursorAhead = true;
    }
  }

  /** Assigned partitions missing from the cursor whose position was not looked up lately. */
  #unnamed(now = Date.now()) {
    return this.#instance.assignments().filter((p) => {
      const since = this.#unknownSince.get(keyOf(p.topic, p.partition));
      return this.#cursor.get(p.topic, p.partition) === undefined && (since === undefined || now - since > 5000);
    });
  }

  /** Renders the records that continue the cursor, up to about maxBytes of event text. */
  #select(messages: ConsumedMessage[], maxBytes: number, seeks: TopicPartitionOffset[]) {
    // A partition whose position could not be looked up starts where its first record is.
    for (const m of messages) {
      if (this.#cursor.get(m.topic, m.partition) === undefined) this.#cursor.set(m.topic, m.partition, m.offset);
    }
    const events: string[] = [];
    const delivered: ConsumedMessage[] = [];
    const seeking = new Set<string>();
    let size = 0;
    let taken = 0;
    for (const m of messages) {
      if (events.length > 0 && size >= maxBytes) break;
      taken++;
      const key = keyOf(m.topic, m.partition);
      if (seeking.has(key)) continue;
      const next = this.#cursor.get(m.topic, m.partition) as number;
      if (this.#unchecked.delete(key) && m.offset !== next) {
        seeking.add(key);
        seeks.push({ topic: m.topic, partition: m.partition, offset: next });
        continue;
      }
      // Already sent: the partition came back to this instance from an older commit.
      if (this.#sent.has(key) && m.offset < next) continue;
      this.#sent.add(key);
      this.#cursor.set(m.topic, m.partition, m.offset + 1);
      const event = recordEvent(this.#cursor.toString(), recordJson(m, this.#instance.settings.format, this.#schemas));
      events.push(event);
      delivered.push(m);
      size += event.length;
    }
    return { events, delivered, taken };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#pumping;
  }
}
