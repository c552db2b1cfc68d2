/** v2 consume of the schema formats: records decoded through the registry, in REST Proxy's JSON. */
import { type RestError, recordDeserialization } from "../../errors.ts";
import type { ConsumedMessage } from "../../kafka/consumer-instance.ts";
import { RecordDecodeError, type SchemaFormat, type Schemas } from "../../schemas/index.ts";

export const keyOf = (m: ConsumedMessage): Buffer | null =>
  m.key === undefined || m.key === null ? null : typeof m.key === "string" ? Buffer.from(m.key) : m.key;

/**
 * Reads of a schema format. Records are decoded in order by the schema id each carries; the
 * first one that cannot be (not in the wire format, an id the registry does not know) stops the
 * read there: the records before it are answered, and it stays first for the next read, which
 * answers REST Proxy's 408 / 40801 for it and moves past it. Deliberate deviation: REST Proxy's
 * consumer fails on such a record forever; Wharf reports it once, then goes on. A registry that
 * is down fails the read with a retriable 503 and hands nothing out.
 */
export function schemaRecordReader(
  schemas: Schemas,
  format: SchemaFormat,
  finish: (record: Record<string, unknown>, m: ConsumedMessage) => Record<string, unknown>,
) {
  const records: Array<Record<string, unknown>> = [];
  const failure: { error: RestError | null } = { error: null };
  const admit = async (messages: ConsumedMessage[]): Promise<number> => {
    await schemas.prepare(
      format,
      messages.flatMap((m) => [keyOf(m), m.value ?? null]),
    );
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as ConsumedMessage;
      let side = "key";
      try {
        const key = schemas.deserialize(format, keyOf(m));
        side = "value";
        const value = schemas.deserialize(format, m.value ?? null);
        records.push(finish({ topic: m.topic, key, value, partition: m.partition, offset: m.offset }, m));
      } catch (error) {
        if (!(error instanceof RecordDecodeError)) throw error;
        if (i > 0) return i;
        failure.error = recordDeserialization(
          `Error deserializing ${side} for partition ${m.topic}-${m.partition} at offset ${m.offset}. ${error.message}`,
        );
        return 1;
      }
    }
    return messages.length;
  };
  return { admit, records, failure };
}
