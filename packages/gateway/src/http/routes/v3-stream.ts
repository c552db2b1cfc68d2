/**
 * The streaming side of v3 produce: reading concatenated JSON records from a request as they
 * arrive, and writing one report per record, in request order, as `{...}\r\n`.
 */
import { badRequestException } from "../../errors.ts";
import { renderData } from "../../formats/embedded-format.ts";
import { isObject, parseJson } from "../json.ts";
import { ConcatenatedJsonSplitter, type SplitValue } from "../json-stream.ts";
import { v3Error } from "./v3-records.ts";

export type Report = { error_code: number } & Record<string, unknown>;

/** Records read ahead of their delivery reports before reading pauses. */
const MAX_STREAM_INFLIGHT = 1000;

/**
 * Feeds the body's records to `produceOne` as they arrive. A syntax error or an oversized record
 * ends the stream after one final report, as in REST Proxy, whose parser cannot resynchronise
 * either. So does a value that is not an object (REST Proxy reports it and goes on; Wharf's
 * splitter cannot tell where a bare scalar ends).
 */
export async function readRecords(
  body: ReadableStream<Uint8Array>,
  maxRecordBytes: number,
  reports: ReportQueue,
  produceOne: (input: unknown) => Promise<Report>,
): Promise<void> {
  const splitter = new ConcatenatedJsonSplitter(maxRecordBytes);
  const final = (detail: string) => reports.push(Promise.resolve(v3Error(badRequestException(detail))));
  const tooLarge = "Error processing message: Produce request size is larger than allowed threshold";
  const take = ({ text, hasNumbers }: SplitValue): boolean => {
    // The splitter only measures a value while it is incomplete; the chunk that completes it can
    // carry it past the limit, so the whole value is measured here too.
    if (Buffer.byteLength(text) > maxRecordBytes) {
      final(tooLarge);
      return false;
    }
    let input: unknown;
    try {
      input = parseJson(text, { exactNumbers: hasNumbers });
    } catch (error) {
      final(`Error processing JSON: ${(error as Error).message}`);
      return false;
    }
    if (!isObject(input)) {
      final(`Error processing JSON: a record must be a JSON object, got ${renderData(input)}.`);
      return false;
    }
    reports.push(produceOne(input));
    return true;
  };
  try {
    for await (const chunk of body) {
      for (const text of splitter.push(chunk)) {
        if (!take(text)) return;
      }
      await reports.below(MAX_STREAM_INFLIGHT);
      if (reports.cancelled) return;
    }
    const rest = splitter.end();
    if (rest !== null) take(rest);
  } catch (error) {
    final(error instanceof RangeError ? tooLarge : `Error processing message: ${(error as Error).message}`);
  } finally {
    reports.close();
  }
}

/** A report on its way, and its value once it has one. */
interface PendingReport {
  promise: Promise<Report>;
  value?: Report;
}

/**
 * The reports of one streaming request, written in request order as they complete. Reports that
 * are ready together go out as one chunk: one socket write per report was a third of the
 * gateway's CPU in streaming produce.
 */
export class ReportQueue {
  #items: PendingReport[] = [];
  #closed = false;
  #cancelled = false;
  #waiters: Array<() => void> = [];

  get size(): number {
    return this.#items.length;
  }

  /** The client went away: nothing more will be written. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  push(report: Promise<Report>): void {
    const item: PendingReport = { promise: report };
    // A report never rejects (failures are reports too); the pull below awaits the same promise.
    report.then(
      (value) => {
        item.value = value;
      },
      () => {},
    );
    this.#items.push(item);
    this.#changed();
  }

  /** No more reports will come. */
  close(): void {
    this.#closed = true;
    this.#changed();
  }

  /** Resolves when a report is waiting or no more will come. */
  async ready(): Promise<void> {
    while (this.#items.length === 0 && !this.#closed) await this.#change();
  }

  /** Resolves when fewer than `limit` reports wait to be written (or nobody will write them). */
  async below(limit: number): Promise<void> {
    while (this.#items.length >= limit && !this.#cancelled) await this.#change();
  }

  toStream(): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        await this.ready();
        const next = this.#items.shift();
        if (!next) {
          controller.close();
          return;
        }
        this.#changed();
        let text = `${JSON.stringify(await next.promise)}\r\n`;
        // Delivery reports arrive one callback each, with a promise turn in between: give the
        // rest of this batch of callbacks a chance to land before writing.
        if (this.#items[0] && this.#items[0].value === undefined) await new Promise(setImmediate);
        for (let ready = this.#items[0]; ready?.value !== undefined; ready = this.#items[0]) {
          this.#items.shift();
          text += `${JSON.stringify(ready.value)}\r\n`;
        }
        this.#changed();
        controller.enqueue(encoder.encode(text));
      },
      cancel: () => {
        this.#cancelled = true;
        this.#changed();
      },
    });
  }

  #change(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #changed(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
