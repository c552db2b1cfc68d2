/**
 * Splits a byte stream of concatenated JSON values (v3 streaming produce) into one text per
 * value, as the bytes arrive. Only the value boundaries are found here; JSON.parse does the rest.
 */
import { type BackslashMark, JsonStringScan } from "./json-strings.ts";

/** One complete JSON value's text. */
export interface SplitValue {
  text: string;
  /**
   * A digit appeared outside its strings. Without one the value holds no number at all, so
   * parseJson can skip looking for numbers it would have to keep exactly.
   */
  hasNumbers: boolean;
}

export class ConcatenatedJsonSplitter {
  #pending: Buffer[] = [];
  #hasNumbers = false;
  #pendingSize = 0;
  #depth = 0;
  #inString = false;
  readonly #strings = new JsonStringScan();
  #started = false;

  readonly maxValueBytes: number;

  constructor(maxValueBytes: number) {
    this.maxValueBytes = maxValueBytes;
  }

  /** Feeds a chunk; returns the complete values it finished. Throws when one value is too large. */
  push(chunk: Uint8Array): SplitValue[] {
    const out: SplitValue[] = [];
    let start = 0;
    const backslash: BackslashMark = { at: -1 };
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (!this.#started) {
        // Whitespace (including the \r\n clients put between records) separates values.
        if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) {
          start = i + 1;
          continue;
        }
        this.#started = true;
        start = i;
      }
      if (this.#inString) {
        i = this.#strings.closingQuote(chunk, i, backslash);
        if (i === chunk.length) break;
        this.#inString = false;
        continue;
      }
      if (byte === 0x22) this.#inString = true;
      else if (byte >= 0x30 && byte <= 0x39) this.#hasNumbers = true;
      else if (byte === 0x7b || byte === 0x5b) this.#depth++;
      else if (byte === 0x7d || byte === 0x5d) {
        if (--this.#depth <= 0) {
          out.push(this.#take(chunk.subarray(start, i + 1)));
          start = i + 1;
        }
      } else if (this.#depth === 0) {
        // A top-level scalar is not a record; hand it to JSON.parse to get a clear error.
        out.push(this.#take(chunk.subarray(start, i + 1)));
        start = i + 1;
      }
    }
    if (this.#started && start < chunk.length) {
      this.#pending.push(Buffer.from(chunk.subarray(start)));
      this.#pendingSize += chunk.length - start;
      if (this.#pendingSize > this.maxValueBytes) throw new RangeError("record too large");
    }
    return out;
  }

  /** Whatever is left when the stream ends: an unterminated value, if any. */
  end(): SplitValue | null {
    if (!this.#started) return null;
    return this.#take(new Uint8Array(0));
  }

  #take(tail: Uint8Array): SplitValue {
    const text = Buffer.concat([...this.#pending, tail]).toString("utf8");
    const hasNumbers = this.#hasNumbers;
    this.#hasNumbers = false;
    this.#pending = [];
    this.#pendingSize = 0;
    this.#depth = 0;
    this.#started = false;
    return { text, hasNumbers };
  }
}
