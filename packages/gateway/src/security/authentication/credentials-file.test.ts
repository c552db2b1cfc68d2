import { describe, expect, it } from "vitest";
import {
  createSecretVerifier,
  hashSecret,
  parseApiKeys,
  parseCredentials,
  parseSecretHash,
} from "./credentials-file.ts";

describe("hashed secrets", () => {
  it("verifies the right secret only, and remembers a verified one", async () => {
    const hash = parseSecretHash(await hashSecret("s3cret", 4));
    const verifier = createSecretVerifier();
    expect(await verifier.verify("basic", "alice", "wrong", hash)).toBe(false);
    expect(await verifier.verify("basic", "alice", "s3cret", hash)).toBe(true);
    expect(await verifier.verify("basic", "alice", "s3cret", hash)).toBe(true);
    // An unknown name (no stored hash) is never accepted, whatever the secret.
    expect(await verifier.verify("basic", "mallory", "s3cret", null)).toBe(false);
  });

  it("parses credentials and API key files and names the bad line", async () => {
    const hash = await hashSecret("pw", 4);
    const users = parseCredentials(`# users\nalice:${hash}:admins, ops\n\nbob:${hash}\n`, "users.txt");
    expect(users.get("alice")?.groups).toEqual(["admins", "ops"]);
    expect(users.get("bob")?.groups).toEqual([]);
    expect(() => parseCredentials("carol:plaintext-password\n", "users.txt")).toThrow(
      /users.txt:1: not an scrypt hash/,
    );
    expect(() => parseCredentials(`a:${hash}\na:${hash}\n`, "users.txt")).toThrow(
      /users.txt:2: user "a" appears twice/,
    );
    const keys = parseApiKeys(`k1:${hash}:svc-billing:billing\n`, "keys.txt");
    expect(keys.get("k1")).toMatchObject({ principal: "svc-billing", groups: ["billing"] });
    expect(() => parseApiKeys(`k.1:${hash}:svc\n`, "keys.txt")).toThrow(/cannot contain/);
    expect(() => parseSecretHash("$scrypt$ln=30,r=8,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")).toThrow(/out of range/);
  });
});
