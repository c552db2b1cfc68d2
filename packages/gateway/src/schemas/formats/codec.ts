/** What each schema format compiles a registry schema into. */
export interface Codec {
  /** The name RecordNameStrategy uses: Avro's full record name, Protobuf's first message, JSON's title. */
  readonly recordName: string | null;
  /** A key or value in REST Proxy's JSON representation, as the format's payload; throws ConversionError. */
  encode(data: unknown): Uint8Array;
  /** A payload (after the wire header) in REST Proxy's JSON representation; throws ConversionError. */
  decode(payload: Buffer): unknown;
}

/** A value the schema does not accept, or bytes the schema cannot read: the message says why. */
export class ConversionError extends Error {}

/** A schema text the format's library refuses. */
export class SchemaParseError extends Error {}
