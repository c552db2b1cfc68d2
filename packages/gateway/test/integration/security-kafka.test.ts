/**
 * Wharf to Kafka over SASL_SSL with SCRAM-SHA-512 (the stack's --sasl-ssl listener): librdkafka
 * producers and consumers through client.* settings, and the admin client from the same settings.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../../src/gateway.ts";
import { parseConfig } from "../../src/index.ts";
import { createKafkaAdmin } from "../../src/kafka/admin-client.ts";
import { silentLogger } from "../../src/log.ts";
import { createConsumer, instanceCall, readUntil } from "./consumer-helpers.ts";
import { call, createTopic, stack, unique } from "./helpers.ts";
import { type RunningGateway, startGateway } from "./security-helpers.ts";

const sasl = () => {
  const info = stack().saslSsl;
  if (!info) throw new Error("the test stack was started without --sasl-ssl");
  return info;
};
const saslProps = (password: string) => ({
  "bootstrap.servers": sasl().bootstrap,
  "client.security.protocol": "SASL_SSL",
  "client.sasl.mechanisms": sasl().mechanism,
  "client.sasl.username": sasl().username,
  "client.sasl.password": password,
  "client.ssl.ca.location": sasl().caFile,
});

describe("Kafka over SASL_SSL with SCRAM-SHA-512", () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway(saslProps(sasl().password));
  });
  afterAll(() => gateway?.close());

  it("produces and consumes with the right password", async () => {
    const topic = await createTopic(unique("sasl"), 1);
    expect(await readyStatus(gateway.url)).toBe(200);
    const produced = await call("POST", `${gateway.url}/topics/${topic}`, {
      headers: { "content-type": "application/vnd.kafka.json.v2+json" },
      body: { records: [{ value: { n: 1 } }, { value: { n: 2 } }] },
    });
    expect(produced.status).toBe(200);
    expect(produced.json.offsets.map((o: { error_code: unknown }) => o.error_code)).toEqual([null, null]);

    const consumer = await createConsumer(gateway.url, unique("sasl-g"), "c1", { format: "json" });
    await instanceCall(consumer, "POST", "/assignments", { partitions: [{ topic, partition: 0 }] });
    await instanceCall(consumer, "POST", "/positions/beginning", { partitions: [{ topic, partition: 0 }] });
    expect((await readUntil(consumer, 2)).map((r) => r.value)).toEqual([{ n: 1 }, { n: 2 }]);
    await instanceCall(consumer, "DELETE", "");
  });

  it("gives the admin client the same TLS and SCRAM settings", async () => {
    const good = createKafkaAdmin(parseConfig(saslProps(sasl().password)));
    const bad = createKafkaAdmin(parseConfig(saslProps("not-the-password")));
    try {
      expect(await good.clusterId()).toMatch(/^[\w-]{22}$/);
      await expect(bad.clusterId()).rejects.toMatchObject({ status: 503 });
    } finally {
      await Promise.all([good.close(), bad.close()]);
    }
  });

  it("refuses a wrong password: the gateway stays not-ready and produce answers a retriable 503", async () => {
    const config = parseConfig({
      ...saslProps("not-the-password"),
      listeners: "http://127.0.0.1:0",
      "log.level": "error",
    });
    const gateway = await createGateway(config, { log: silentLogger, audit: silentLogger });
    const { url } = await gateway.listen();
    try {
      const ready = await call("GET", `${url}/readyz`);
      expect(ready.status).toBe(503);
      const produced = await call("POST", `${url}/topics/anything`, {
        headers: { "content-type": "application/vnd.kafka.json.v2+json" },
        body: { records: [{ value: 1 }] },
      });
      expect([produced.status, produced.json.error_code]).toEqual([503, 503]);
    } finally {
      await gateway.close();
    }
  });
});

/** /readyz once Kafka answered, or its last status after 30 s (producers connect in the background). */
async function readyStatus(url: string): Promise<number> {
  let status = 0;
  for (let i = 0; i < 60 && status !== 200; i++) {
    status = (await call("GET", `${url}/readyz`)).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 500));
  }
  return status;
}
