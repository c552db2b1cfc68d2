/**
 * What each serialization option costs per record, and whether it takes REST Proxy's JSON as is:
 * Wharf's codecs (avsc / ajv / protobufjs directly, src/schemas/formats) against Confluent's own
 * serdes from @confluentinc/schemaregistry (AvroSerializer, JsonSerializer) on its MockClient, and
 * avsc's public fromString/toString. In-process, no registry on the wire: serialization only.
 *
 *   node loadtest/schema-serde-cost.ts [--records 10000]
 *
 * Prints one line per option: ns/record to serialize (and decode), the output size, and whether
 * the bytes equal Wharf's for the same record.
 */
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { compileAvro } from "../packages/gateway/src/schemas/formats/avro.ts";
import { compileJsonSchema } from "../packages/gateway/src/schemas/formats/json-schema.ts";
import { compileProtobuf } from "../packages/gateway/src/schemas/formats/protobuf.ts";
import { frame, unframe } from "../packages/gateway/src/schemas/wire.ts";

// The serdes are the gateway's dependencies, not the load test's: resolve them from there.
const require = createRequire(new URL("../packages/gateway/package.json", import.meta.url));
// biome-ignore lint/suspicious/noExplicitAny: CommonJS modules without types on this side
const sr: any = require("@confluentinc/schemaregistry");
// biome-ignore lint/suspicious/noExplicitAny: as above
const avsc: any = require("avsc");

const { values } = parseArgs({ options: { records: { type: "string", default: "10000" } } });
const N = Number(values.records);

const avroSchema = {
  type: "record",
  name: "Event",
  namespace: "bench",
  fields: [
    { name: "id", type: "long" },
    { name: "user", type: ["null", "string"] },
    { name: "kind", type: { type: "enum", name: "Kind", symbols: ["CLICK", "VIEW", "BUY"] } },
    { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "tags", type: { type: "array", items: "string" } },
    { name: "blob", type: "bytes" },
    { name: "text", type: "string" },
  ],
};
const text = "x".repeat(820);
/** REST Proxy's JSON for the record (Avro's JSON encoding), about 1 KiB. */
const restAvro = (i: number) => ({
  id: i,
  user: { string: `user-${i}` },
  kind: "VIEW",
  at: 1_700_000_000_000 + i,
  tags: ["a", "b", "c"],
  blob: "\u0001\u0002\u00ff\u0000",
  text,
});
/** The same record as avsc's native value (what Confluent's AvroSerializer takes). */
const nativeAvro = (i: number) => ({ ...restAvro(i), user: `user-${i}`, blob: Buffer.from([1, 2, 255, 0]) });

const jsonSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    user: { type: "string" },
    kind: { enum: ["CLICK", "VIEW", "BUY"] },
    tags: { type: "array", items: { type: "string" } },
    text: { type: "string", maxLength: 4096 },
  },
  required: ["id", "kind"],
  additionalProperties: false,
};
const restJson = (i: number) => ({ id: i, user: `user-${i}`, kind: "VIEW", tags: ["a", "b", "c"], text });

const proto = `syntax = "proto3";
package bench;
message Event { int64 id = 1; string user = 2; Kind kind = 3; int64 at = 4; repeated string tags = 5; bytes blob = 6; string text = 7; }
enum Kind { CLICK = 0; VIEW = 1; BUY = 2; }`;
const restProto = (i: number) => ({
  id: String(i),
  user: `user-${i}`,
  kind: "VIEW",
  at: String(1_700_000_000_000 + i),
  tags: ["a", "b", "c"],
  blob: "AQL/AA==",
  text,
});

interface Line {
  option: string;
  serializeNs: number;
  decodeNs: number | null;
  bytes: number;
  takesRestProxyJson: string;
  sameBytesAsWharf: string;
}

/**
 * ns per call: the best of ROUNDS rounds of N calls each, after a warm-up. The machine is shared
 * (other processes take the cores in bursts); the best round is the least disturbed one.
 */
const ROUNDS = 5;
async function time(fn: (i: number) => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(5000, N); i++) await fn(i);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const out = fn(i);
      if (out instanceof Promise) await out;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / N);
  }
  return best;
}

const tryOrNo = (fn: () => unknown): string => {
  try {
    fn();
    return "yes";
  } catch (error) {
    return `no (${(error as Error).message.slice(0, 60)})`;
  }
};

async function main() {
  const lines: Line[] = [];
  const ID = 1;

  // Avro: Wharf's codec (avsc's JSON coercion without the text round trip).
  const wharfAvro = compileAvro(JSON.stringify(avroSchema));
  const wharfBytes = frame(ID, wharfAvro.encode(restAvro(7)));
  lines.push({
    option: "avro with bytes: Wharf (avsc, JSON coercion)",
    serializeNs: await time((i) => frame(ID, wharfAvro.encode(restAvro(i)))),
    decodeNs: await time(() => wharfAvro.decode((unframe(wharfBytes) as { payload: Buffer }).payload)),
    bytes: wharfBytes.length,
    takesRestProxyJson: "yes",
    sameBytesAsWharf: "-",
  });

  // Avro without bytes: Wharf writes the JSON as it is (avsc's wrapUnions form), no coercion.
  const noBytesSchema = { ...avroSchema, fields: avroSchema.fields.filter((f) => f.name !== "blob") };
  const noBytes = (i: number) => {
    const { blob: _, ...rest } = restAvro(i);
    return rest;
  };
  const wharfDirect = compileAvro(JSON.stringify(noBytesSchema));
  const directType = avsc.Type.forSchema(noBytesSchema);
  const directBytes = frame(ID, wharfDirect.encode(noBytes(7)));
  const directReference = frame(ID, directType.toBuffer(directType.fromString(JSON.stringify(noBytes(7)))));
  lines.push({
    option: "avro without bytes: Wharf (avsc wrapUnions, no copy)",
    serializeNs: await time((i) => frame(ID, wharfDirect.encode(noBytes(i)))),
    decodeNs: await time(() => wharfDirect.decode(directBytes.subarray(5))),
    bytes: directBytes.length,
    takesRestProxyJson: "yes",
    sameBytesAsWharf: `${directBytes.equals(directReference)} (vs avsc fromString)`,
  });
  lines.push({
    option: "avro without bytes: avsc fromString/toString",
    serializeNs: await time((i) => frame(ID, directType.toBuffer(directType.fromString(JSON.stringify(noBytes(i)))))),
    decodeNs: await time(() => JSON.parse(directType.toString(directType.fromBuffer(directBytes.subarray(5))))),
    bytes: directReference.length,
    takesRestProxyJson: "yes",
    sameBytesAsWharf: "-",
  });

  // Avro: avsc's public fromString/toString (the same coercion through JSON text).
  const type = avsc.Type.forSchema(avroSchema);
  const viaString = (i: number) => frame(ID, type.toBuffer(type.fromString(JSON.stringify(restAvro(i)))));
  lines.push({
    option: "avro with bytes: avsc fromString/toString",
    serializeNs: await time(viaString),
    decodeNs: await time(() => JSON.parse(type.toString(type.fromBuffer(wharfBytes.subarray(5))))),
    bytes: viaString(7).length,
    takesRestProxyJson: "yes",
    sameBytesAsWharf: String(viaString(7).equals(wharfBytes)),
  });

  // Avro: Confluent's AvroSerializer on its mock registry, schema pinned by id.
  const client = new sr.MockClient({ baseURLs: ["mock://bench"] });
  const avroId = await client.register("bench-value", { schemaType: "AVRO", schema: JSON.stringify(avroSchema) });
  const avroSer = new sr.AvroSerializer(client, sr.SerdeType.VALUE, { useSchemaId: avroId });
  const avroDe = new sr.AvroDeserializer(client, sr.SerdeType.VALUE, {});
  const confluentBytes: Buffer = await avroSer.serialize("bench", nativeAvro(7));
  const wharfWithTheirId = frame(avroId, wharfAvro.encode(restAvro(7)));
  let takesRest = "yes";
  try {
    await avroSer.serialize("bench", restAvro(7));
  } catch (error) {
    takesRest = `no (${(error as Error).message.slice(0, 60)})`;
  }
  lines.push({
    option: "avro with bytes: Confluent AvroSerializer (avsc native value)",
    serializeNs: await time((i) => avroSer.serialize("bench", nativeAvro(i))),
    decodeNs: await time(() => avroDe.deserialize("bench", confluentBytes)),
    bytes: confluentBytes.length,
    takesRestProxyJson: takesRest,
    sameBytesAsWharf: String(confluentBytes.equals(wharfWithTheirId)),
  });

  // JSON Schema: Wharf's codec (ajv) against Confluent's JsonSerializer with validation.
  const wharfJson = compileJsonSchema(JSON.stringify(jsonSchema));
  const wharfJsonBytes = frame(ID, wharfJson.encode(restJson(7)));
  lines.push({
    option: "jsonschema: Wharf (ajv)",
    serializeNs: await time((i) => frame(ID, wharfJson.encode(restJson(i)))),
    decodeNs: await time(() => wharfJson.decode(wharfJsonBytes.subarray(5))),
    bytes: wharfJsonBytes.length,
    takesRestProxyJson: tryOrNo(() => wharfJson.encode(restJson(1))),
    sameBytesAsWharf: "-",
  });
  const jsId = await client.register("bench-json-value", { schemaType: "JSON", schema: JSON.stringify(jsonSchema) });
  const jsonSer = new sr.JsonSerializer(client, sr.SerdeType.VALUE, { useSchemaId: jsId, validate: true });
  const jsonDe = new sr.JsonDeserializer(client, sr.SerdeType.VALUE, {});
  const confluentJson: Buffer = await jsonSer.serialize("bench-json", restJson(7));
  lines.push({
    option: "jsonschema: Confluent JsonSerializer (validate)",
    serializeNs: await time((i) => jsonSer.serialize("bench-json", restJson(i))),
    decodeNs: await time(() => jsonDe.deserialize("bench-json", confluentJson)),
    bytes: confluentJson.length,
    takesRestProxyJson: "yes",
    sameBytesAsWharf: String(confluentJson.equals(frame(jsId, wharfJson.encode(restJson(7))))),
  });

  // Protobuf: Wharf's codec (JsonFormat-style checks, then protobufjs). Confluent's
  // ProtobufSerializer takes @bufbuild messages generated ahead of time from .proto files; a
  // schema that arrives as text in a request cannot be compiled into one at run time.
  const wharfProto = compileProtobuf(proto);
  const wharfProtoBytes = frame(ID, wharfProto.encode(restProto(7)));
  lines.push({
    option: "protobuf: Wharf (protobufjs)",
    serializeNs: await time((i) => frame(ID, wharfProto.encode(restProto(i)))),
    decodeNs: await time(() => wharfProto.decode(wharfProtoBytes.subarray(5))),
    bytes: wharfProtoBytes.length,
    takesRestProxyJson: "yes",
    sameBytesAsWharf: "-",
  });
  lines.push({
    option: "protobuf: Confluent ProtobufSerializer",
    serializeNs: Number.NaN,
    decodeNs: null,
    bytes: 0,
    takesRestProxyJson: "no (needs generated @bufbuild message types)",
    sameBytesAsWharf: "-",
  });

  const ns = (v: number | null) => (v === null || Number.isNaN(v) ? "n/a" : `${Math.round(v)}`);
  const { loadavg } = await import("node:os");
  console.log(
    `best of ${ROUNDS} rounds of ${N} records per option (node ${process.version}, load average ${loadavg()[0]?.toFixed(1)})`,
  );
  console.log("option | serialize ns/record | decode ns/record | bytes | takes REST Proxy JSON | same bytes as Wharf");
  for (const l of lines) {
    console.log(
      `${l.option} | ${ns(l.serializeNs)} | ${ns(l.decodeNs)} | ${l.bytes} | ${l.takesRestProxyJson} | ${l.sameBytesAsWharf}`,
    );
  }
}

await main();
