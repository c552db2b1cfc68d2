/**
 * Splits a byte stream of concatenated JSON values (v3 streaming produce) into one text per
 * value, as the bytes arrive. Only the value boundaries are found here; JSON.parse does the rest.
 */
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
  #escaped = false;
  #started = false;

  readonly maxValueBytes: number;

  constructor(maxValueBytes: number) {
    this.maxValueBytes = maxValueBytes;
  }

  /** Feeds a chunk; returns the complete values it finished. Throws when one value is too large. */
  push(chunk: Uint8Array): SplitValue[] {
    const out: SplitValue[] = [];
    let start = 0;
    // The next backslash at or after i (chunk.length: none); looked up again once i passes it.
    let backslashAt = -1;
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
        if (this.#escaped) {
          this.#escaped = false;
          continue;
        }
        // Inside a string only '"' and '\\' change anything: jump to the next of them natively
        // instead of visiting each byte of a long (base64) string here.
        if (backslashAt < i) {
          const found = chunk.indexOf(0x5c, i);
          backslashAt = found === -1 ? chunk.length : found;
        }
        const quote = chunk.indexOf(0x22, i);
        i = Math.min(quote === -1 ? chunk.length : quote, backslashAt);
        if (i === chunk.length) break;
        if (chunk[i] === 0x5c) this.#escaped = true;
        else this.#inString = false;
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
