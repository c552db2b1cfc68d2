/**
 * Bad produce requests against the real stack: each gets REST Proxy's status and error code, the
 * gateway keeps serving, and Kafka holds nothing from it (expectNothingWritten).
 */
import { Readable } from "node:stream";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { gatewayUrl, lbUrl, unique, V2_BINARY } from "./helpers.ts";
import {
  b64,
  CLUSTER,
  createTopic,
  expectNothingWritten,
  produceV2,
  produceV3,
  reportLines,
  sendDeclared,
} from "./produce-helpers.ts";
import { startGateway } from "./security-helpers.ts";

const MiB = 1024 * 1024;
const LIMIT = 16 * MiB; // request.max.bytes default

/** A JSON body just over the limit, as bytes (base64 'A's are valid, so only the size is wrong). */
const oversizedV2 = () => Buffer.from(`{"records":[{"value":"${"A".repeat(LIMIT + 4)}"}]}`);

async function postChunked(url: string, contentType: string, body: Buffer, chunk = 256 * 1024) {
  const res = await request(url, {
    method: "POST",
    headers: { "content-type": contentType },
    body: Readable.from(
      (async function* () {
        for (let at = 0; at < body.length; at += chunk) yield body.subarray(at, at + chunk);
      })(),
    ),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

describe("v2 produce refuses bad requests", () => {
  it("answers malformed JSON, wrong types and unknown fields with 400 / 422", async () => {
    const topic = await createTopic(unique("err-v2-body"), 1);
    const cases: Array<[string, number, number, string | RegExp]> = [
      ['{"records": [', 400, 400, /^Malformed JSON/],
      ["[]", 400, 400, /ProduceRequest/],
      ['{"records": {}}', 400, 400, /records must be an array/],
      ['{"records": [1]}', 400, 400, /records\[0\] must be an object/],
      ['{"records": [{"value": "YQ==", "partition": "x"}]}', 400, 400, /partition must be an integer/],
      ['{"records": [{"value": "YQ=="}], "extra": 1}', 422, 422, "Unrecognized field: extra"],
      ['{"records": [{"value": "YQ==", "timestamp": 1}]}', 422, 422, "Unrecognized field: timestamp"],
      ['{"records": []}', 422, 422, "records must not be empty (was [])"],
      ["{}", 422, 422, "records must not be empty (was [])"],
      ["", 422, 422, /must not be null/],
      ["null", 422, 422, /must not be null/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await produceV2(topic, body);
      expect(res.status, `${body}: ${res.text}`).toBe(status);
      expect(res.json.error_code, body).toBe(code);
      expect(res.json.message).toMatch(message);
    }
    await expectNothingWritten(topic);
  });

  it("answers a Content-Type that names no embedded format with 415", async () => {
    const topic = await createTopic(unique("err-v2-type"), 1);
    const body = JSON.stringify({ records: [{ value: b64("x") }] });
    for (const type of [
      "application/json",
      "application/vnd.kafka.v2+json",
      "text/plain",
      "application/octet-stream",
    ]) {
      const res = await produceV2(topic, body, { headers: { "content-type": type } });
      expect(res.status, type).toBe(415);
      expect(res.json.error_code).toBe(415);
    }
    await expectNothingWritten(topic);
  });

  it("answers bad base64 with 400 and REST Proxy's message, even when other records are good", async () => {
    const topic = await createTopic(unique("err-v2-base64"), 1);
    const cases: Array<[unknown, string]> = [
      [{ records: [{ value: "x" }] }, 'Bad Request: data="x" is not a valid base64 string.'],
      [
        { records: [{ value: b64("fine") }, { key: "Zm9v!", value: b64("v") }] },
        'Bad Request: data="Zm9v!" is not a valid base64 string.',
      ],
      [{ records: [{ value: 123 }] }, "Bad Request: data=123 is not a base64 string."],
      [{ records: [{ value: { a: 1 } }] }, 'Bad Request: data={"a":1} is not a base64 string.'],
    ];
    for (const [body, message] of cases) {
      const res = await produceV2(topic, body);
      expect(res.status, res.text).toBe(400);
      expect(res.json).toEqual({ error_code: 400, message });
    }
    await expectNothingWritten(topic);
  });

  it("answers an unknown topic with 404 / 40401 at once (REST Proxy waits 60 s)", async () => {
    const topic = unique("err-v2-no-such-topic");
    const started = Date.now();
    for (const partition of [undefined, 0]) {
      const res = await produceV2(topic, { records: [{ value: b64("x") }] }, { partition });
      expect(res.status, res.text).toBe(404);
      expect(res.json).toEqual({ error_code: 40401, message: `Topic ${topic} not found.` });
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("answers a partition out of range, negative or not a number with 404 / 40402", async () => {
    const topic = await createTopic(unique("err-v2-partition"), 1);
    const body = { records: [{ value: b64("x") }] };
    for (const partition of [1, 99, "-1", "abc", "1.5"]) {
      const res = await produceV2(topic, body, { partition });
      expect(res.status, `${partition}: ${res.text}`).toBe(404);
      expect(res.json).toEqual({ error_code: 40402, message: "Partition not found." });
    }
    for (const records of [
      [{ value: b64("ok") }, { value: b64("x"), partition: 1 }],
      [{ value: b64("x"), partition: -1 }],
    ]) {
      const res = await produceV2(topic, { records });
      expect(res.status, res.text).toBe(404);
      expect(res.json.error_code).toBe(40402);
    }
    await expectNothingWritten(topic);
  });

  it("answers more records than produce.max.records.per.request with 422 / 42206", async () => {
    const topic = await createTopic(unique("err-v2-too-many"), 1);
    const records = Array.from({ length: 10_001 }, () => ({ value: "YQ==" }));
    const res = await produceV2(topic, { records });
    expect(res.status).toBe(422);
    expect(res.json).toEqual({
      error_code: 42206,
      message: "Payload error. At most 10000 records per request, got 10001.",
    });
    await expectNothingWritten(topic);
  });

  it("answers schema formats without a schema registry with 422", async () => {
    // The stack's gateways have a registry; this one (in-process) is configured without.
    const lone = await startGateway({});
    try {
      const topic = await createTopic(unique("err-v2-avro"), 1);
      const headers = { "content-type": "application/vnd.kafka.avro.v2+json" };
      const base = lone.url;
      const named = await produceV2(topic, { value_schema: '"string"', records: [{ value: "a" }] }, { headers, base });
      expect([named.status, named.json]).toEqual([
        422,
        { error_code: 42206, message: "Payload error. Schema Registry must be configured when using schemas." },
      ]);
      const unnamed = await produceV2(topic, { records: [{ value: "a" }] }, { headers, base });
      expect([unnamed.status, unnamed.json.error_code]).toEqual([422, 42207]);
      await expectNothingWritten(topic, 0, base);
    } finally {
      await lone.close();
    }
  });

  it("answers a body over request.max.bytes with 413, declared or chunked", async () => {
    const topic = await createTopic(unique("err-v2-large"), 1);
    const body = oversizedV2();
    for (const base of [gatewayUrl(0), lbUrl()]) {
      const declared = await sendDeclared(`${base}/topics/${topic}`, { "content-type": V2_BINARY }, body.length);
      expect(declared.status).toBe(413);
      expect(JSON.parse(declared.text)).toEqual({
        error_code: 413,
        message: `Request body larger than the limit of ${LIMIT} bytes.`,
      });
    }
    const chunked = await postChunked(`${lbUrl()}/topics/${topic}`, V2_BINARY, body);
    expect(chunked.status, chunked.text.slice(0, 200)).toBe(413);
    expect(JSON.parse(chunked.text).error_code).toBe(413);
    await expectNothingWritten(topic, 0, gatewayUrl(0));
  });
});

describe("v3 produce refuses bad requests", () => {
  const url = (topic: string, action = "records") => `${lbUrl()}/v3/clusters/${CLUSTER}/topics/${topic}/${action}`;

  it("answers a Content-Type other than application/json with 415, an odd charset with 400", async () => {
    const topic = await createTopic(unique("err-v3-type"), 1);
    const body = JSON.stringify({ value: { type: "STRING", data: "x" } });
    for (const batch of [false, true]) {
      const payload = batch ? JSON.stringify({ entries: [{ id: "1", value: { type: "STRING", data: "x" } }] }) : body;
      for (const type of [V2_BINARY, "text/plain", "application/x-www-form-urlencoded"]) {
        const res = await produceV3(topic, payload, { batch, headers: { "content-type": type } });
        expect(res.status, type).toBe(415);
        expect(res.json.error_code).toBe(415);
      }
      const charset = await produceV3(topic, payload, {
        batch,
        headers: { "content-type": "application/json; charset=utf-16" },
      });
      expect(charset.status).toBe(400);
      const accept = await produceV3(topic, payload, { batch, headers: { accept: "application/vnd.kafka.v2+json" } });
      expect(accept.status).toBe(406);
    }
    const none = await request(url(topic), { method: "POST", body: Buffer.from(body) });
    expect(none.statusCode).toBe(415);
    await none.body.dump();
    await expectNothingWritten(topic);
  });

  it("answers an empty body with 422 / 42206 before streaming", async () => {
    const topic = await createTopic(unique("err-v3-empty"), 1);
    for (const body of ["", " \r\n "]) {
      const res = await produceV3(topic, body);
      expect(res.status).toBe(422);
      expect(res.json).toEqual({
        error_code: 42206,
        message: "Payload error. Request body is empty. Data is required.",
      });
    }
    await expectNothingWritten(topic);
  });

  it("reports bad records in-band with 200, as REST Proxy's streaming does", async () => {
    const topic = await createTopic(unique("err-v3-inband"), 1);
    const cases: Array<[string, Record<string, unknown>]> = [
      [
        '{"value":{"type":"BINARY","data":"a"}}',
        { error_code: 400, message: 'Bad Request: data="a" is not a valid base64 string.' },
      ],
      [
        '{"value":{"type":"BINARY","data":[1]}}',
        { error_code: 400, message: "Bad Request: data=[1] is not a base64 string." },
      ],
      ['{"key":{"type":"STRING","data":5}}', { error_code: 400, message: "Bad Request: data=5 is not a string." }],
      [
        // No type with a registry configured: the subject's latest schema, and this topic has none.
        '{"value":{"data":"untyped"}}',
        {
          error_code: 422,
          message: expect.stringMatching(
            /^Error: 42207 : Error serializing message\. Error when fetching latest schema version\. subject = (err-v3-inband-.*-value)\nSubject '\1' not found\./,
          ),
        },
      ],
      [
        '{"partition_id":1,"value":{"type":"STRING","data":"x"}}',
        { error_code: 40402, message: "Partition not found." },
      ],
      ['{"partition_id":-1}', { error_code: 40402, message: "Partition not found." }],
      ['{"partition_id":"x"}', { error_code: 400, message: 'partition_id must be an integer, got "x".' }],
      ['{"records":[]}', { error_code: 400, message: expect.stringMatching(/^Unrecognized field "records"/) }],
      [
        '{"headers":[{"name":"h","value":"bad"}]}',
        { error_code: 400, message: expect.stringMatching(/headers\[0\]\.value/) },
      ],
      ['{"timestamp":"yesterday"}', { error_code: 400, message: expect.stringMatching(/^timestamp must be/) }],
      ['{"value": nope}', { error_code: 400, message: expect.stringMatching(/^Bad Request: Error processing JSON: /) }],
      ["[1, 2]", { error_code: 400, message: expect.stringMatching(/^Bad Request: Error processing JSON: /) }],
    ];
    for (const [body, report] of cases) {
      const res = await produceV3(topic, body);
      expect(res.status, body).toBe(200);
      expect(reportLines(res.text), body).toEqual([report]);
    }
    await expectNothingWritten(topic);
  });

  it("reports an unknown topic in-band with 40401 at once", async () => {
    const topic = unique("err-v3-no-such-topic");
    const started = Date.now();
    const res = await produceV3(topic, '{"value":{"type":"STRING","data":"a"}}{"value":{"type":"STRING","data":"b"}}');
    expect(res.status).toBe(200);
    expect(reportLines(res.text)).toEqual([
      { error_code: 40401, message: `Topic ${topic} not found.` },
      { error_code: 40401, message: `Topic ${topic} not found.` },
    ]);
    const batch = await produceV3(
      topic,
      { entries: [{ id: "1", value: { type: "STRING", data: "a" } }] },
      { batch: true },
    );
    expect(batch.status).toBe(207);
    expect(batch.json).toEqual({
      successes: [],
      failures: [{ id: "1", error_code: 40401, message: `Topic ${topic} not found.` }],
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("answers a declared body over the limit with 413, and ends a stream at a record over it", async () => {
    const topic = await createTopic(unique("err-v3-large"), 1);
    const huge = `{"value":{"type":"BINARY","data":"${"A".repeat(LIMIT + 4)}"}}`;
    const declared = await sendDeclared(url(topic), { "content-type": "application/json" }, huge.length);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.text).error_code).toBe(413);

    const batch = await postChunked(
      url(topic, "records:batch"),
      "application/json",
      Buffer.from(`{"entries":[${huge}]}`),
    );
    expect(batch.status).toBe(413);

    // Streaming has no total limit, only one per record: the small record before it is written.
    const small = '{"value":{"type":"STRING","data":"small"}}';
    const stream = await postChunked(url(topic), "application/json", Buffer.from(`${small}${huge}${small}`));
    expect(stream.status).toBe(200);
    expect(reportLines(stream.text)).toEqual([
      expect.objectContaining({ error_code: 200, offset: 0 }),
      {
        error_code: 400,
        message: "Bad Request: Error processing message: Produce request size is larger than allowed threshold",
      },
    ]);
    await expectNothingWritten(topic, 1);
  });
});
