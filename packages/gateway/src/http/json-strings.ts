/** Skipping through JSON strings in raw bytes, shared by the body and stream splitters. */

/** Where the next backslash was found in the current chunk; reset it (to -1) for each new chunk. */
export interface BackslashMark {
  at: number;
}

/**
 * Inside a JSON string only '"' and '\\' change anything: the index of the next of them at or
 * after `from`, or chunk.length for neither, found natively instead of visiting each byte of a
 * long (base64) string in JavaScript. The next backslash is looked up again only once `from`
 * passes it, so a chunk without any is searched for one once, not once per string.
 */
export function nextQuoteOrBackslash(chunk: Uint8Array, from: number, backslash: BackslashMark): number {
  if (backslash.at < from) {
    const found = chunk.indexOf(0x5c, from);
    backslash.at = found === -1 ? chunk.length : found;
  }
  const quote = chunk.indexOf(0x22, from);
  return Math.min(quote === -1 ? chunk.length : quote, backslash.at);
}

/** The end of a JSON string being read, found across chunks (an escape may end one chunk). */
export class JsonStringScan {
  #escaped = false;

  /** The index of the string's closing quote at or after `from`, or chunk.length if it goes on. */
  closingQuote(chunk: Uint8Array, from: number, backslash: BackslashMark): number {
    for (let i = from; i < chunk.length; i++) {
      if (this.#escaped) {
        this.#escaped = false;
        continue;
      }
      i = nextQuoteOrBackslash(chunk, i, backslash);
      if (i === chunk.length) break;
      if (chunk[i] !== 0x5c) return i;
      this.#escaped = true;
    }
    return chunk.length;
  }
}
