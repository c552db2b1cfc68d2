/** Feeds a topic event stream from an assign-only TopicStream, advancing the resume cursor. */
import type { TopicStream } from "../../kafka/topic-stream.ts";
import type { Schemas } from "../../schemas/index.ts";
import type { Cursor } from "./cursor.ts";
import type { StreamSource } from "./event-stream.ts";
import { prepareRecords, recordEvent, recordJson, type StreamFormat } from "./record-event.ts";

export class TopicStreamSource implements StreamSource {
  readonly #stream: TopicStream;
  readonly #cursor: Cursor;
  readonly #format: StreamFormat;
  readonly #schemas: Schemas | null;

  /** The cursor must already name every partition of the stream at its start offset. */
  constructor(stream: TopicStream, cursor: Cursor, format: StreamFormat, schemas: Schemas | null = null) {
    this.#stream = stream;
    this.#cursor = cursor;
    this.#format = format;
    this.#schemas = schemas;
  }

  async pump(waitMs: number, maxBytes: number, write: (text: string, events: number) => boolean): Promise<number> {
    const messages = await this.#stream.take(waitMs, maxBytes);
    if (messages.length === 0) return 0;
    try {
      await prepareRecords(this.#format, this.#schemas, messages);
    } catch (error) {
      // The registry is down: the records wait for the next stream (a resume starts before them).
      this.#stream.unread(messages);
      throw error;
    }
    const cursor = this.#cursor;
    const events: string[] = [];
    let size = 0;
    let used = 0;
    for (const m of messages) {
      // Event text can be far larger than the record (base64, escaping, the cursor in every id).
      if (events.length > 0 && size >= maxBytes) break;
      used++;
      cursor.set(m.topic, m.partition, m.offset + 1);
      const event = recordEvent(cursor.toString(), recordJson(m, this.#format, this.#schemas));
      events.push(event);
      size += event.length;
    }
    this.#stream.unread(messages.slice(used));
    return write(events.join(""), events.length) ? events.length : 0;
  }

  close(): Promise<void> {
    return this.#stream.close();
  }
}
