/**
 * Confluent's wire format: magic byte 0, the schema id as a 4-byte big-endian integer, then the
 * format's payload (for Protobuf the payload starts with the message indexes, see formats/protobuf.ts).
 */
const MAGIC = 0;
const HEADER = 5;

export function frame(id: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out[0] = MAGIC;
  out.writeUInt32BE(id, 1);
  out.set(payload, HEADER);
  return out;
}

/** The schema id and payload of a framed record, or null when it is not in the wire format. */
export function unframe(bytes: Buffer): { id: number; payload: Buffer } | null {
  if (bytes.length < HEADER || bytes[0] !== MAGIC) return null;
  return { id: bytes.readUInt32BE(1), payload: bytes.subarray(HEADER) };
}
