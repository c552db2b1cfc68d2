/** v2 produce against the real stack: every route and format, the exact response, and what Kafka holds. */
import { describe, expect, it } from "vitest";
import { call, gatewayUrl, lbUrl, unique, V2 } from "./helpers.ts";
import { b64, createTopic, produceV2, readTopic } from "./produce-helpers.ts";

describe("v2 produce", () => {
  it("writes binary keys and values to a topic and answers REST Proxy's response", async () => {
    const topic = await createTopic(unique("v2-binary"), 3);
    const raw = Buffer.from([0x00, 0xff, 0x80, 0x0a, 0x7b]);
    const records = [
      { key: b64("k1"), value: b64("v1") },
      { key: null, value: raw.toString("base64") },
      { value: b64("no key") },
      { key: b64("k4") }, // a null value (tombstone)
      { key: "", value: "" }, // empty, not null
    ];
    const res = await produceV2(topic, { records });
    expect(res.status, res.text).toBe(200);
    expect(res.headers["content-type"]).toBe(V2);
    expect(Object.keys(res.json)).toEqual(["offsets", "key_schema_id", "value_schema_id"]);
    expect(res.json.key_schema_id).toBeNull();
    expect(res.json.value_schema_id).toBeNull();
    expect(res.json.offsets).toHaveLength(records.length);
    for (const o of res.json.offsets) {
      expect(Object.keys(o)).toEqual(["partition", "offset", "error_code", "error"]);
      expect(o).toMatchObject({ error_code: null, error: null });
      expect(o.partition).toBeGreaterThanOrEqual(0);
      expect(o.partition).toBeLessThan(3);
    }

    const read = await readTopic(topic, records.length);
    const at = (i: number) => {
      const { partition, offset } = res.json.offsets[i];
      const found = read.find((r) => r.partition === partition && r.offset === offset);
      expect(found, `record ${i} at ${partition}/${offset}`).toBeDefined();
      return found as NonNullable<typeof found>;
    };
    expect(at(0).key?.toString()).toBe("k1");
    expect(at(0).value?.toString()).toBe("v1");
    expect(at(1).key).toBeNull();
    expect(at(1).value?.equals(raw)).toBe(true);
    expect(at(2).key).toBeNull();
    expect(at(3).key?.toString()).toBe("k4");
    expect(at(3).value).toBeNull();
    expect(at(4).key?.length).toBe(0);
    expect(at(4).value?.length).toBe(0);
    // REST Proxy stamps v2 records at the proxy and sends no headers.
    for (const r of read) {
      expect(r.headers).toEqual([]);
      expect(Math.abs((r.timestamp ?? 0) - Date.now())).toBeLessThan(60_000);
    }
  });

  it("honours a per-record partition on the topic route", async () => {
    const topic = await createTopic(unique("v2-record-partition"), 3);
    const res = await produceV2(topic, {
      records: [
        { value: b64("p2"), partition: 2 },
        { value: b64("p0"), partition: 0 },
        { value: b64("p1"), partition: "1" }, // Jackson reads "1" as an Integer
        { value: b64("p2b"), partition: 2 },
      ],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.offsets.map((o: { partition: number; offset: number }) => [o.partition, o.offset])).toEqual([
      [2, 0],
      [0, 0],
      [1, 0],
      [2, 1],
    ]);
    const read = await readTopic(topic, 4);
    const where = Object.fromEntries(read.map((r) => [r.value?.toString(), [r.partition, r.offset]]));
    expect(where).toEqual({ p2: [2, 0], p0: [0, 0], p1: [1, 0], p2b: [2, 1] });
  });

  it("writes every record of the partition route to that partition, in order", async () => {
    const topic = await createTopic(unique("v2-partition-route"), 3);
    const values = Array.from({ length: 25 }, (_, i) => `value-${i}`);
    const res = await produceV2(
      topic,
      { records: values.map((v, i) => ({ key: b64(`k${i}`), value: b64(v) })) },
      { partition: 1 },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json.offsets).toEqual(
      values.map((_, i) => ({ partition: 1, offset: i, error_code: null, error: null })),
    );
    const read = await readTopic(topic, 25);
    expect(read.every((r) => r.partition === 1)).toBe(true);
    expect(read.sort((a, b) => a.offset - b.offset).map((r) => r.value?.toString())).toEqual(values);
  });

  it("lets a record's own partition win on the partition route (REST Proxy's quirk)", async () => {
    const topic = await createTopic(unique("v2-partition-override"), 3);
    const res = await produceV2(
      topic,
      { records: [{ value: b64("a") }, { value: b64("b"), partition: 2 }] },
      { partition: 0 },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json.offsets.map((o: { partition: number }) => o.partition)).toEqual([0, 2]);
  });

  it("writes json keys and values as compact JSON, numbers exactly as sent", async () => {
    const topic = await createTopic(unique("v2-json"), 1);
    const body =
      '{"records":[' +
      '{"key":"user-1","value":{"name":"Zoë","tags":["a","b"],"nested":{"ok":true,"n":null}}},' +
      '{"key":{"id":12345678901234567890},"value":[1.0,2.50,-0,1e3]},' +
      '{"key":42,"value":"plain string"},' +
      '{"value":null},' +
      '{"key":null,"value":false}' +
      "]}";
    const res = await produceV2(topic, body, { format: "json" });
    expect(res.status, res.text).toBe(200);
    expect(res.json.offsets.map((o: { offset: number }) => o.offset)).toEqual([0, 1, 2, 3, 4]);
    const read = (await readTopic(topic, 5)).sort((a, b) => a.offset - b.offset);
    expect(read.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
      ['"user-1"', '{"name":"Zoë","tags":["a","b"],"nested":{"ok":true,"n":null}}'],
      ['{"id":12345678901234567890}', "[1.0,2.50,-0,1e3]"],
      ["42", '"plain string"'],
      [null, null],
      [null, "false"],
    ]);
  });

  it("treats a request without Content-Type as binary", async () => {
    const topic = await createTopic(unique("v2-no-content-type"), 1);
    const res = await call("POST", `${lbUrl()}/topics/${topic}`, {
      body: Buffer.from(JSON.stringify({ records: [{ value: b64("untyped") }] })),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.headers["content-type"]).toBe(V2);
    const [record] = await readTopic(topic, 1);
    expect(record?.value?.toString()).toBe("untyped");
  });

  it("negotiates the response type from Accept", async () => {
    const topic = await createTopic(unique("v2-accept"), 1);
    const body = { records: [{ value: b64("x") }] };
    const cases: Array<[string | undefined, number, string | undefined]> = [
      [undefined, 200, V2],
      ["*/*", 200, V2],
      ["text/html", 406, "application/json"],
      ["application/vnd.kafka.v2+json, application/vnd.kafka+json, application/json", 200, V2],
      // Wharf's superset: REST Proxy would answer 406.
      ["application/json", 200, "application/json"],
    ];
    const offsets: number[] = [];
    for (const [accept, status, type] of cases) {
      const res = await produceV2(topic, body, { headers: accept === undefined ? {} : { accept } });
      expect(res.status, `${accept}: ${res.text}`).toBe(status);
      expect(res.headers["content-type"]).toBe(type);
      if (status === 406) expect(res.json).toEqual({ error_code: 406, message: "HTTP 406 Not Acceptable" });
      else offsets.push(res.json.offsets[0].offset);
    }
    // The 406 wrote nothing: the offsets of the others follow each other.
    expect(offsets).toEqual([0, 1, 2, 3]);
  });

  it("is served the same by every gateway", async () => {
    const topic = await createTopic(unique("v2-every-gateway"), 1);
    for (let i = 0; i < 3; i++) {
      const res = await produceV2(topic, { records: [{ value: b64(`gw-${i}`) }] }, { base: gatewayUrl(i) });
      expect(res.status, res.text).toBe(200);
      expect(res.json.offsets[0]).toEqual({ partition: 0, offset: i, error_code: null, error: null });
    }
    const read = (await readTopic(topic, 3)).sort((a, b) => a.offset - b.offset);
    expect(read.map((r) => r.value?.toString())).toEqual(["gw-0", "gw-1", "gw-2"]);
  });
});
