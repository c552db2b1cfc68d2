import { describe, expect, it } from "vitest";
import { deliveryError, librdkafka, unconfirmedDelivery, v2RecordErrorCode } from "./delivery-errors.ts";

describe("deliveryError", () => {
  it.each([
    ["MSG_TIMED_OUT", librdkafka.MSG_TIMED_OUT],
    ["QUEUE_FULL", librdkafka.QUEUE_FULL],
    ["TRANSPORT", librdkafka.TRANSPORT],
    ["ALL_BROKERS_DOWN", librdkafka.ALL_BROKERS_DOWN],
    ["TIMED_OUT", librdkafka.TIMED_OUT],
    ["NOT_ENOUGH_REPLICAS", librdkafka.NOT_ENOUGH_REPLICAS],
    ["NOT_ENOUGH_REPLICAS_AFTER_APPEND", librdkafka.NOT_ENOUGH_REPLICAS_AFTER_APPEND],
    ["LEADER_NOT_AVAILABLE", librdkafka.LEADER_NOT_AVAILABLE],
    ["NOT_LEADER_FOR_PARTITION", librdkafka.NOT_LEADER_FOR_PARTITION],
    ["REQUEST_TIMED_OUT", librdkafka.REQUEST_TIMED_OUT],
    ["PURGE_QUEUE", librdkafka.PURGE_QUEUE],
  ])("reports %s as retriable 50003, never as success", (_name, code) => {
    const error = deliveryError({ code, message: "boom" });
    expect(error).toEqual({ errorCode: 50003, status: 503, message: "boom", retriable: true });
    expect(v2RecordErrorCode(error)).toBe(50003);
  });

  it("trusts librdkafka's own retriable flag for codes it does not list", () => {
    expect(deliveryError({ code: 12345, message: "x", isRetriable: true })).toMatchObject({
      errorCode: 50003,
      retriable: true,
    });
  });

  it("reports anything else as 50002", () => {
    for (const error of [{ code: 2, message: "corrupt" }, { code: 0 }, {}]) {
      const mapped = deliveryError(error);
      expect(mapped).toMatchObject({ errorCode: 50002, status: 500, retriable: false });
      expect(v2RecordErrorCode(mapped)).toBe(50002);
    }
    expect(deliveryError({}).message).toBe("unknown Kafka error");
  });

  it.each([
    librdkafka.TOPIC_AUTHORIZATION_FAILED,
    librdkafka.CLUSTER_AUTHORIZATION_FAILED,
    librdkafka.GROUP_AUTHORIZATION_FAILED,
    librdkafka.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ])("maps authorization failure %i to 403 / 40301 (v2 keeps it)", (code) => {
    const error = deliveryError({ code, message: "denied" });
    expect(error).toMatchObject({ errorCode: 40301, status: 403, message: "denied" });
    expect(v2RecordErrorCode(error)).toBe(40301);
  });

  it.each([
    librdkafka.SASL_AUTHENTICATION_FAILED,
    librdkafka.AUTHENTICATION,
    librdkafka.UNSUPPORTED_SASL_MECHANISM,
    librdkafka.ILLEGAL_SASL_STATE,
  ])("maps authentication failure %i to 401 / 40101 (v2 keeps it)", (code) => {
    const error = deliveryError({ code, message: "who?" });
    expect(error).toMatchObject({ errorCode: 40101, status: 401 });
    expect(v2RecordErrorCode(error)).toBe(40101);
  });

  it("maps an unknown topic or partition to 40401 / 40402, and to retriable 50003 in v2 records", () => {
    for (const code of [librdkafka.UNKNOWN_TOPIC, librdkafka.UNKNOWN_TOPIC_OR_PART]) {
      const error = deliveryError({ code, message: "Local: Unknown topic" });
      expect(error).toMatchObject({ errorCode: 40401, status: 404, message: "Topic not found." });
      expect(v2RecordErrorCode(error)).toBe(50003);
    }
    const partition = deliveryError({ code: librdkafka.UNKNOWN_PARTITION, message: "Local: Unknown partition" });
    expect(partition).toMatchObject({ errorCode: 40402, status: 404, message: "Partition not found." });
    expect(v2RecordErrorCode(partition)).toBe(50003);
  });

  it("maps a record too large to 413 / 413 (RecordTooLargeException), and 50002 in v2 records", () => {
    const error = deliveryError({ code: librdkafka.MSG_SIZE_TOO_LARGE, message: "Broker: Message size too large" });
    expect(error).toMatchObject({ errorCode: 413, status: 413, retriable: false });
    expect(v2RecordErrorCode(error)).toBe(50002);
  });

  it("reports a success without an offset as retriable, never as stored", () => {
    const error = unconfirmedDelivery();
    expect(error).toMatchObject({ errorCode: 50003, retriable: true });
    expect(v2RecordErrorCode(error)).toBe(50003);
  });
});
