/**
 * The resume token of an event stream: for every partition the stream has a position in, the
 * offset of the next record to send. Each event's `id:` carries the whole cursor as it stands
 * after that event, so a client's Last-Event-ID alone says where to continue on every partition,
 * on any node, with no server-side state. Text form: `topic:partition:offset` entries joined by
 * commas, the topic percent-encoded (Kafka topic names never need it; the format stays safe).
 */
import { badRequest } from "../../errors.ts";

/** A Last-Event-ID longer than this is refused rather than parsed (a header is capped anyway). */
const MAX_TEXT = 64 * 1024;

export interface Position {
  topic: string;
  partition: number;
  offset: number;
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class Cursor {
  readonly #positions = new Map<string, Position>();
  /** Rendered entries, kept so that advancing one partition does not re-encode the others. */
  readonly #entries = new Map<string, string>();

  static parse(text: string): Cursor {
    const cursor = new Cursor();
    const trimmed = text.trim();
    if (trimmed === "") return cursor;
    const invalid = () => badRequest(`Last-Event-ID is not a Wharf stream position: ${trimmed.slice(0, 100)}`);
    if (trimmed.length > MAX_TEXT) throw invalid();
    for (const entry of trimmed.split(",")) {
      const match = /^([^:,]+):(\d{1,10}):(\d{1,19})$/.exec(entry);
      if (!match) throw invalid();
      let topic: string;
      try {
        topic = decodeURIComponent(match[1] as string);
      } catch {
        throw invalid();
      }
      const partition = Number(match[2]);
      const offset = Number(match[3]);
      if (!Number.isSafeInteger(offset) || partition > 2 ** 31 - 1) throw invalid();
      cursor.set(topic, partition, offset);
    }
    return cursor;
  }

  get(topic: string, partition: number): number | undefined {
    return this.#positions.get(keyOf(topic, partition))?.offset;
  }

  /** Records that the next record to send on this partition is at `offset`. */
  set(topic: string, partition: number, offset: number): void {
    const key = keyOf(topic, partition);
    this.#positions.set(key, { topic, partition, offset });
    this.#entries.set(key, `${encodeURIComponent(topic)}:${partition}:${offset}`);
  }

  positions(): Position[] {
    return [...this.#positions.values()];
  }

  get size(): number {
    return this.#positions.size;
  }

  toString(): string {
    return [...this.#entries.values()].join(",");
  }
}
