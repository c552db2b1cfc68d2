/** Feeds a topic event stream from an assign-only TopicStream, advancing the resume cursor. */
import type { TopicStream } from "../../kafka/topic-stream.ts";
import type { Cursor } from "./cursor.ts";
import type { StreamSource } from "./event-stream.ts";
import { recordEvent, recordJson, type StreamFormat } from "./record-event.ts";

export class TopicStreamSource implements StreamSource {
  readonly #stream: TopicStream;
  readonly #cursor: Cursor;
  readonly #format: StreamFormat;

  /** The cursor must already name every partition of the stream at its start offset. */
  constructor(stream: TopicStream, cursor: Cursor, format: StreamFormat) {
    this.#stream = stream;
    this.#cursor = cursor;
    this.#format = format;
  }

  async pump(waitMs: number, maxBytes: number, write: (text: string, events: number) => boolean): Promise<number> {
    const messages = await this.#stream.take(waitMs, maxBytes);
    if (messages.length === 0) return 0;
    const cursor = this.#cursor;
    const events: string[] = [];
    let size = 0;
    let used = 0;
    for (const m of messages) {
      // Event text can be far larger than the record (base64, escaping, the cursor in every id).
      if (events.length > 0 && size >= maxBytes) break;
      used++;
      cursor.set(m.topic, m.partition, m.offset + 1);
      const event = recordEvent(cursor.toString(), recordJson(m, this.#format));
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
