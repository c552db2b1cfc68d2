import { describe, expect, it } from "vitest";
import { SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER, verifyRequest } from "./internal-auth.ts";

const body = new TextEncoder().encode('{"topics":["a"]}');
const headersOf = (signed: Record<string, string>) => ({
  timestamp: signed[TIMESTAMP_HEADER],
  signature: signed[SIGNATURE_HEADER],
});

describe("internal request signatures", () => {
  it("accepts a request signed with the cluster secret", () => {
    const signed = signRequest("s3cret", "POST", "/consumers/g/instances/c/subscription", body);
    expect(verifyRequest("s3cret", headersOf(signed), "POST", "/consumers/g/instances/c/subscription", body)).toBe(
      true,
    );
  });

  it("refuses another secret, another path, another method or another body", () => {
    const signed = headersOf(signRequest("s3cret", "POST", "/a", body));
    expect(verifyRequest("other", signed, "POST", "/a", body)).toBe(false);
    expect(verifyRequest("s3cret", signed, "POST", "/b", body)).toBe(false);
    expect(verifyRequest("s3cret", signed, "DELETE", "/a", body)).toBe(false);
    expect(verifyRequest("s3cret", signed, "POST", "/a", new Uint8Array([1]))).toBe(false);
  });

  it("refuses missing, malformed and stale signatures", () => {
    const signed = headersOf(signRequest("s3cret", "GET", "/a", body));
    expect(verifyRequest("s3cret", { timestamp: undefined, signature: signed.signature }, "GET", "/a", body)).toBe(
      false,
    );
    expect(verifyRequest("s3cret", { timestamp: signed.timestamp, signature: "zz" }, "GET", "/a", body)).toBe(false);
    expect(verifyRequest("s3cret", { timestamp: "soon", signature: signed.signature }, "GET", "/a", body)).toBe(false);
    const later = Number(signed.timestamp) + 60_000;
    expect(verifyRequest("s3cret", signed, "GET", "/a", body, later)).toBe(false);
  });
});
