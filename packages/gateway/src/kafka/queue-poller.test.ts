import { describe, expect, it } from "vitest";
import { kafkaFailure } from "./queue-poller.ts";

describe("kafkaFailure", () => {
  it("answers a coordinator that moved, a timeout or a rebalance with a retriable 503 / 50003", () => {
    for (const code of [-166, -185, -187, -195, 7, 14, 15, 16, 27]) {
      const error = kafkaFailure({ code, message: "Broker: Not coordinator" });
      expect([error.status, error.errorCode], String(code)).toEqual([503, 50003]);
    }
  });

  it("keeps refusals and other Kafka errors as they were", () => {
    expect(kafkaFailure({ code: 29 }).status).toBe(403);
    expect(kafkaFailure({ code: 58 }).status).toBe(401);
    expect(kafkaFailure({ code: -172 }).status).toBe(409);
    const other = kafkaFailure({ code: 22, message: "Broker: Specified group generation id is not valid" });
    expect([other.status, other.errorCode]).toEqual([500, 50002]);
  });
});
