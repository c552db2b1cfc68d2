/** v3 produce against the real stack: single records, streaming, records:batch, and what Kafka holds. */
import { describe, expect, it } from "vitest";
import { unique } from "./helpers.ts";
import { b64, CLUSTER, createTopic, openStream, produceV3, readTopic, reportLines } from "./produce-helpers.ts";

const header = (name: string, value: Buffer | null) => ({
  name,
  value: value === null ? null : value.toString("base64"),
});

describe("v3 produce, one record", () => {
  it("writes key, value, headers, partition and timestamp, and reports them as REST Proxy does", async () => {
    const topic = await createTopic(unique("v3-full"), 3);
    // Written as text: the big number must not pass through a JS number on the way.
    const valueText = '{"amount":12.5,"big":12345678901234567890,"items":["a",null]}';
    const body = JSON.stringify({
      partition_id: 2,
      headers: [
        header("trace", Buffer.from("abc")),
        header("bin", Buffer.from([0, 255])),
        header("trace", Buffer.from("def")),
      ],
      key: { type: "STRING", data: "clé-1" },
      value: { type: "JSON", data: "VALUE" },
      timestamp: "2021-02-05T19:14:42.123Z",
    }).replace('"VALUE"', valueText);
    const res = await produceV3(topic, body);
    expect(res.status, res.text).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    const [report, ...more] = reportLines(res.text);
    expect(more).toEqual([]);
    expect(report).toEqual({
      error_code: 200,
      cluster_id: CLUSTER,
      topic_name: topic,
      partition_id: 2,
      offset: 0,
      timestamp: "2021-02-05T19:14:42.123Z",
      key: { type: "STRING", size: Buffer.byteLength("clé-1") },
      value: { type: "JSON", size: valueText.length },
    });
    expect(Object.keys(report as object)).toEqual([
      "error_code",
      "cluster_id",
      "topic_name",
      "partition_id",
      "offset",
      "timestamp",
      "key",
      "value",
    ]);

    const [record] = await readTopic(topic, 1);
    expect(record?.partition).toBe(2);
    expect(record?.key?.toString()).toBe("clé-1");
    expect(record?.value?.toString()).toBe(valueText);
    expect(record?.timestamp).toBe(Date.parse("2021-02-05T19:14:42.123Z"));
    const headers = (record?.headers ?? []).map((h) => Object.entries(h)[0] as [string, Buffer]);
    expect(headers.map(([name, value]) => [name, value.toString("hex")])).toEqual([
      ["trace", Buffer.from("abc").toString("hex")],
      ["bin", "00ff"],
      ["trace", Buffer.from("def").toString("hex")],
    ]);
  });

  it("writes BINARY data byte for byte, and reports a null with its type and size -1", async () => {
    const topic = await createTopic(unique("v3-binary"), 1);
    const raw = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x22, 0x5c]);
    const binary = await produceV3(topic, {
      key: { type: "BINARY", data: raw.toString("base64") },
      value: { type: "BINARY", data: "" },
    });
    expect(reportLines(binary.text)[0]).toMatchObject({
      error_code: 200,
      offset: 0,
      key: { type: "BINARY", size: 6 },
      value: { type: "BINARY", size: 0 },
    });
    const nulls = await produceV3(topic, { key: { type: "STRING", data: null }, value: { type: "JSON", data: null } });
    const nullReport = reportLines(nulls.text)[0];
    expect(nullReport).toMatchObject({
      error_code: 200,
      offset: 1,
      key: { type: "STRING", size: -1 },
      value: { type: "JSON", size: -1 },
    });
    const empty = await produceV3(topic, {});
    const emptyReport = reportLines(empty.text)[0] as Record<string, unknown>;
    expect(emptyReport).toMatchObject({ error_code: 200, offset: 2 });
    expect(emptyReport).not.toHaveProperty("key");
    expect(emptyReport).not.toHaveProperty("value");
    // Without a timestamp the record is stamped now.
    expect(Math.abs(Date.parse(emptyReport.timestamp as string) - Date.now())).toBeLessThan(60_000);

    const read = (await readTopic(topic, 3)).sort((a, b) => a.offset - b.offset);
    expect(read[0]?.key?.equals(raw)).toBe(true);
    expect(read[0]?.value?.length).toBe(0);
    expect(read[1]?.key).toBeNull();
    expect(read[1]?.value).toBeNull();
    expect(read[2]?.key).toBeNull();
    expect(read[2]?.value).toBeNull();
  });
});

describe("v3 produce, streaming", () => {
  it("answers each record of a chunked request as it is acknowledged, in order, separated by \\r\\n", async () => {
    const topic = await createTopic(unique("v3-stream"), 1);
    const stream = openStream(topic);
    const rec = (data: string) =>
      JSON.stringify({ key: { type: "STRING", data: `k-${data}` }, value: { type: "STRING", data } });

    // The first report arrives while the request is still open: true streaming, not buffering.
    await stream.write(rec("first"));
    const { status, headers } = await stream.response;
    expect(status).toBe(200);
    expect(headers["content-type"]).toBe("application/json");
    expect(await stream.next()).toMatchObject({ error_code: 200, partition_id: 0, offset: 0 });

    // Several records in one chunk, one split across chunks, bad ones in the middle.
    await stream.write(`\r\n${rec("second")}${rec("third")}\n`);
    await stream.write(JSON.stringify({ value: { type: "BINARY", data: "%%%" } }));
    await stream.write(JSON.stringify({ value: { data: "no type" } }));
    const fourth = rec("fourth");
    await stream.write(fourth.slice(0, 17));
    await stream.write(fourth.slice(17));
    await stream.write(JSON.stringify({ value: { type: "STRING", data: "x" }, partition_id: 7 }));
    await stream.write(`  ${rec("fifth")}\r\n`);
    await stream.end();

    const reports = await stream.rest();
    expect(reports).toEqual([
      expect.objectContaining({ error_code: 200, offset: 1 }),
      expect.objectContaining({ error_code: 200, offset: 2 }),
      { error_code: 400, message: 'Bad Request: data="%%%" is not a valid base64 string.' },
      {
        error_code: 422,
        // No type, and the topic's subject has no schema in the stack's registry.
        message: expect.stringMatching(
          /^Error: 42207 : Error serializing message\. Error when fetching latest schema version\. subject = (.*-value)\nSubject '\1' not found\./,
        ),
      },
      expect.objectContaining({ error_code: 200, offset: 3 }),
      { error_code: 40402, message: "Partition not found." },
      expect.objectContaining({ error_code: 200, offset: 4 }),
    ]);
    const read = (await readTopic(topic, 5)).sort((a, b) => a.offset - b.offset);
    expect(read.map((r) => r.value?.toString())).toEqual(["first", "second", "third", "fourth", "fifth"]);
    expect(read.map((r) => r.key?.toString())).toEqual(["k-first", "k-second", "k-third", "k-fourth", "k-fifth"]);
  });

  it("writes a long stream to Kafka in the order it was sent", async () => {
    const topic = await createTopic(unique("v3-stream-order"), 1);
    const count = 500;
    const body = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ value: { type: "STRING", data: `n${i}` } }),
    ).join("");
    const res = await produceV3(topic, body);
    expect(res.status).toBe(200);
    const reports = reportLines(res.text);
    expect(reports.map((r) => [r.error_code, r.offset])).toEqual(Array.from({ length: count }, (_, i) => [200, i]));
    const read = (await readTopic(topic, count)).sort((a, b) => a.offset - b.offset);
    expect(read.map((r) => r.value?.toString())).toEqual(Array.from({ length: count }, (_, i) => `n${i}`));
  });

  it("ends the stream at malformed JSON after reporting the records before it", async () => {
    const topic = await createTopic(unique("v3-stream-malformed"), 1);
    const good = JSON.stringify({ value: { type: "STRING", data: "kept" } });
    const res = await produceV3(topic, `${good}{"value": {"type": "STRING", "data": oops}}${good}`);
    expect(res.status).toBe(200);
    const reports = reportLines(res.text);
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ error_code: 200, offset: 0 });
    expect(reports[1]?.error_code).toBe(400);
    expect(reports[1]?.message).toMatch(/^Bad Request: Error processing JSON: /);
    // The record after the broken one was not written: the next one gets offset 1.
    const next = await produceV3(topic, good);
    expect(reportLines(next.text)[0]).toMatchObject({ error_code: 200, offset: 1 });
  });
});

describe("v3 produce, records:batch", () => {
  it("answers 207 with successes and failures in request order, and writes only the successes", async () => {
    const topic = await createTopic(unique("v3-batch"), 2);
    const res = await produceV3(
      topic,
      {
        entries: [
          { id: "ok-1", partition_id: 1, key: { type: "STRING", data: "a" }, value: { type: "JSON", data: [1] } },
          { id: "bad-base64", value: { type: "BINARY", data: "@@" } },
          {
            id: "ok-2",
            partition_id: 0,
            value: { type: "BINARY", data: b64("bin") },
            headers: [header("h", Buffer.from("v"))],
          },
          { id: "no-type", value: { data: 1 } },
          { id: "out-of-range", partition_id: 9, value: { type: "STRING", data: "x" } },
          { id: "ok_3", partition_id: 1, value: { type: "STRING", data: "c" }, timestamp: "2022-01-01T00:00:00Z" },
        ],
      },
      { batch: true },
    );
    expect(res.status, res.text).toBe(207);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.json.successes).toEqual([
      {
        id: "ok-1",
        cluster_id: CLUSTER,
        topic_name: topic,
        partition_id: 1,
        offset: 0,
        timestamp: expect.any(String),
        key: { type: "STRING", size: 1 },
        value: { type: "JSON", size: 3 },
      },
      expect.objectContaining({ id: "ok-2", partition_id: 0, offset: 0, value: { type: "BINARY", size: 3 } }),
      expect.objectContaining({ id: "ok_3", partition_id: 1, offset: 1, timestamp: "2022-01-01T00:00:00Z" }),
    ]);
    expect(res.json.failures).toEqual([
      { id: "bad-base64", error_code: 400, message: 'Bad Request: data="@@" is not a valid base64 string.' },
      {
        id: "no-type",
        error_code: 422,
        // No type, and the topic's subject has no schema in the stack's registry.
        message: expect.stringMatching(
          /^Error: 42207 : Error serializing message\. Error when fetching latest schema version\. subject = (.*-value)\nSubject '\1' not found\./,
        ),
      },
      { id: "out-of-range", error_code: 40402, message: "Partition not found." },
    ]);
    const read = await readTopic(topic, 3);
    expect(read.map((r) => `${r.partition}/${r.offset}=${r.value?.toString()}`).sort()).toEqual([
      "0/0=bin",
      "1/0=[1]",
      "1/1=c",
    ]);
    expect(read.find((r) => r.partition === 0)?.headers.map((h) => Object.keys(h)[0])).toEqual(["h"]);
  });

  it("refuses a malformed batch as a whole with 422 / 42208, writing nothing", async () => {
    const topic = await createTopic(unique("v3-batch-invalid"), 1);
    const cases: Array<[unknown, number, number, string]> = [
      [
        { entries: [{ id: "a b", value: { type: "STRING", data: "x" } }] },
        422,
        42208,
        "Batch entry identifier is not a valid string.",
      ],
      [{ entries: [{ id: 5 }] }, 422, 42208, "Batch entry identifier is not a valid string."],
      [{ entries: [{ id: "x" }, { id: "x" }] }, 422, 42208, "Batch entry IDs are not distinct."],
      [{ entries: [] }, 422, 42208, "Empty batch."],
      [{ entries: Array.from({ length: 11 }, (_, i) => ({ id: `${i}` })) }, 422, 42208, "Too many entries in batch."],
      ["", 422, 42208, "Request body is empty. Data is required."],
      [{ records: [] }, 422, 422, "Unrecognized field: records"],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await produceV3(topic, body, { batch: true });
      expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(status);
      expect(res.json).toEqual({ error_code: code, message });
    }
    const ok = await produceV3(
      topic,
      { entries: [{ id: "after", value: { type: "STRING", data: "x" } }] },
      { batch: true },
    );
    expect(ok.json.successes[0]).toMatchObject({ id: "after", offset: 0 });
  });
});
