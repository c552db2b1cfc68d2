/**
 * Prints the scrypt hash of a secret read from stdin, for the credentials and API key files:
 *
 *     printf '%s' 's3cret' | node packages/gateway/src/security/authentication/hash-secret.ts
 *     printf '%s' 's3cret' | node packages/gateway/src/security/authentication/hash-secret.ts --api-key billing
 *
 * With --api-key <id>, the secret is generated instead (stdin is not read) and the key to hand out
 * is printed on stderr, the file line on stdout. The secret never appears in a command line.
 */
import { randomBytes } from "node:crypto";
import { hashSecret } from "./credentials-file.ts";

const [flag, id] = process.argv.slice(2);
if (flag === "--api-key") {
  if (!id || id.includes(".") || id.includes(":")) {
    process.stderr.write("usage: hash-secret.ts --api-key <key-id> (no '.' or ':')\n");
    process.exit(2);
  }
  const secret = randomBytes(24).toString("base64url");
  process.stderr.write(`API key to hand out: ${id}.${secret}\n`);
  process.stdout.write(`${id}:${await hashSecret(secret)}:<principal>\n`);
} else {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const secret = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (secret === "") {
    process.stderr.write("no secret on stdin\n");
    process.exit(2);
  }
  process.stdout.write(`${await hashSecret(secret)}\n`);
}
