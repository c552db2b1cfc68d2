import { describe, expect, it } from "vitest";
import { fingerprint, parseIdempotencyKey, scopedKey } from "./key.ts";
import { shouldStore } from "./outcome.ts";

describe("parseIdempotencyKey", () => {
  it("reads an sf-string, with its escapes and optional parameters", () => {
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toEqual({
      ok: true,
      key: "8e03978e-40d5-43e8-bc93-6894a57f9324",
    });
    expect(parseIdempotencyKey(' "a \\"quoted\\" \\\\ key" ')).toEqual({ ok: true, key: 'a "quoted" \\ key' });
    expect(parseIdempotencyKey('"k";origin=batch')).toEqual({ ok: true, key: "k" });
  });

  it("refuses what is not one", () => {
    for (const raw of ["token", '"', '"unterminated', '""', '"a\\n"', '"é"', '"a" "b"', `"${"x".repeat(256)}"`]) {
      expect(parseIdempotencyKey(raw).ok, raw).toBe(false);
    }
  });
});

describe("fingerprint", () => {
  const base = { method: "POST", target: "/topics/t", contentType: "application/json", body: Buffer.from("{}") };

  it("is equal for the same request, content type parameters normalized", () => {
    expect(fingerprint(base)).toBe(fingerprint({ ...base, method: "post", contentType: "Application/JSON" }));
    expect(fingerprint({ ...base, contentType: "application/json; charset=UTF-8" })).toBe(
      fingerprint({ ...base, contentType: "application/json;charset=utf-8" }),
    );
  });

  it("differs when any part differs, even if bytes move between parts", () => {
    const prints = new Set([
      fingerprint(base),
      fingerprint({ ...base, method: "PUT" }),
      fingerprint({ ...base, target: "/topics/u" }),
      fingerprint({ ...base, target: "/topics/t?x=1" }),
      fingerprint({ ...base, contentType: "application/vnd.kafka.binary.v2+json" }),
      fingerprint({ ...base, body: Buffer.from("{ }") }),
      fingerprint({ ...base, target: "/topics/t{", body: Buffer.from("}") }),
    ]);
    expect(prints.size).toBe(7);
  });
});

describe("scopedKey", () => {
  it("separates principals, and a principal from no authentication", () => {
    const keys = new Set([scopedKey(null, "k"), scopedKey("alice", "k"), scopedKey("bob", "k"), scopedKey("-", "k")]);
    expect(keys.size).toBe(4);
    expect(scopedKey("alice", "k")).toBe(scopedKey("alice", "k"));
  });
});

describe("shouldStore", () => {
  const body = (value: unknown) => Buffer.from(JSON.stringify(value));
  const v2 = (...codes: Array<number | null>) =>
    body({ offsets: codes.map((error_code) => ({ partition: 0, offset: 0, error_code, error: null })) });

  it("releases whole-request retriable answers", () => {
    for (const status of [500, 503, 429, 408]) expect(shouldStore(status, body({ error_code: status }))).toBe(false);
  });

  it("stores other refusals and successes", () => {
    expect(shouldStore(404, body({ error_code: 40401, message: "Topic not found." }))).toBe(true);
    expect(shouldStore(422, body({ error_code: 42206, message: "x" }))).toBe(true);
    expect(shouldStore(200, v2(null, null))).toBe(true);
  });

  it("releases a produce answer only when every record failed retriably", () => {
    expect(shouldStore(200, v2(50003, 50003))).toBe(false);
    expect(shouldStore(200, v2(null, 50003))).toBe(true);
    expect(shouldStore(200, v2(50002, 50003))).toBe(true);
    expect(shouldStore(207, body({ successes: [], failures: [{ id: "1", error_code: 50003 }] }))).toBe(false);
    expect(shouldStore(207, body({ successes: [{ id: "1" }], failures: [{ id: "2", error_code: 50003 }] }))).toBe(true);
    const lines = (...codes: number[]) =>
      Buffer.from(codes.map((error_code) => `${JSON.stringify({ error_code })}\r\n`).join(""));
    expect(shouldStore(200, lines(50003, 429))).toBe(false);
    expect(shouldStore(200, lines(200, 50003))).toBe(true);
    expect(shouldStore(200, lines(40402))).toBe(true);
  });
});
