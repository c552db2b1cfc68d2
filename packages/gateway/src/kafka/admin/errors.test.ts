import { MultipleErrors, ProtocolError, ResponseError } from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import { RestError } from "../../errors.ts";
import { kafkaFailure, messageChain, toRestError } from "./errors.ts";

/** What @platformatic/kafka throws: a ProtocolError inside a ResponseError inside MultipleErrors. */
const platformatic = (code: number, message: string | null) =>
  new MultipleErrors("Creating topics failed.", [new ResponseError(19, 7, { "/topics/0": [code, message] }, {})]);
/** What librdkafka's binding rejects with. */
const librdkafka = (code: number, message: string, isRetriable = false) =>
  Object.assign(new Error(message), { code, errno: code, origin: "kafka", isRetriable });

const rest = (error: unknown) => {
  const e = toRestError(error);
  return { status: e.status, code: e.errorCode, message: e.message };
};

describe("admin error mapping", () => {
  it("finds Kafka's code and the broker's message in @platformatic/kafka's nested errors", () => {
    expect(kafkaFailure(platformatic(36, "Topic 'x' already exists."))).toEqual({
      code: 36,
      message: "Topic 'x' already exists.",
      retriable: false,
    });
    expect(kafkaFailure(new ProtocolError(40, null))?.message).toBe("Configuration is invalid.");
  });

  it("maps bad requests to 400 / 40002 as rest-utils does", () => {
    expect(rest(platformatic(36, "Topic 'x' already exists."))).toEqual({
      status: 400,
      code: 40002,
      message: "Topic 'x' already exists.",
    });
    expect(rest(librdkafka(37, "The topic t currently has 4 partition(s); 3 would not be an increase."))).toMatchObject(
      {
        status: 400,
        code: 40002,
      },
    );
    for (const code of [38, 40, 42, 44]) expect(rest(platformatic(code, "no")).code).toBe(40002);
  });

  it("maps an unknown topic to 404 / 40403 with Kafka's words, not librdkafka's", () => {
    expect(rest(librdkafka(3, "Broker: Unknown topic or partition"))).toEqual({
      status: 404,
      code: 40403,
      message: "This server does not host this topic-partition.",
    });
  });

  it("maps authorization, retriable and other failures", () => {
    expect(rest(platformatic(29, null))).toMatchObject({ status: 403, code: 40301 });
    expect(rest(platformatic(15, null))).toMatchObject({ status: 500, code: 50003 }); // COORDINATOR_NOT_AVAILABLE
    expect(rest(librdkafka(-185, "Local: Timed out"))).toMatchObject({ status: 500, code: 50003 });
    expect(rest(platformatic(8, null))).toMatchObject({ status: 503, code: 50302 });
    expect(rest(platformatic(87, null))).toMatchObject({ status: 500, code: 50002 });
    expect(rest(new Error("socket hang up"))).toMatchObject({ status: 500, code: 50002 });
  });

  it("passes RestErrors through", () => {
    const error = new RestError(404, 404, "HTTP 404 Not Found");
    expect(toRestError(error)).toBe(error);
  });
});

describe("messageChain", () => {
  it("follows causes and nested errors, each message once", () => {
    const reason = new Error("Kafka refused the OAUTHBEARER token: insufficient_scope");
    const connect = new Error("Connection to 10.0.0.5:9093 failed", { cause: reason });
    const outer = Object.assign(new Error("Cannot connect to any broker"), { errors: [connect, connect] });
    expect(messageChain(outer)).toBe(
      "Cannot connect to any broker: Connection to 10.0.0.5:9093 failed: Kafka refused the OAUTHBEARER token: insufficient_scope",
    );
  });

  it("survives cycles and things that are not errors", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    Object.assign(a, { cause: b });
    expect(messageChain(a)).toBe("a: b");
    expect(messageChain("plain")).toBe("plain");
  });

  it("gives network failures without a Kafka code their causes", () => {
    const error = Object.assign(new Error("Cannot connect to any broker"), {
      code: "PLT_KFK_NETWORK",
      cause: new Error("Kafka refused the token"),
    });
    const mapped = toRestError(error);
    expect([mapped.status, mapped.errorCode, mapped.message]).toEqual([
      500,
      50003,
      "Cannot connect to any broker: Kafka refused the token",
    ]);
  });
});
