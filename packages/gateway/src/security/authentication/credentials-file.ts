/**
 * Hashed secrets and the files that hold them. Passwords and API keys are stored only as scrypt
 * hashes in PHC form (`$scrypt$ln=14,r=8,p=1$<salt>$<hash>`, base64 without padding), so a leaked
 * file gives away no credential.
 *
 *   credentials file (HTTP Basic):  name:hash[:group,group...]
 *   API key file:                   key-id:hash:principal[:group,group...]
 *
 * Blank lines and lines starting with # are ignored.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

export interface SecretHash {
  /** log2 of scrypt's cost N. */
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export interface CredentialEntry {
  /** The user name (credentials file) or the principal an API key acts as. */
  principal: string;
  hash: SecretHash;
  groups: string[];
}

/** Upper bound on scrypt's cost: ln=17, r=8 already takes 128 MiB per verification. */
const MAX_LN = 17;

const b64 = (value: string) => Buffer.from(value, "base64");
const unpadded = (buf: Buffer) => buf.toString("base64").replace(/=+$/, "");

export function parseSecretHash(text: string): SecretHash {
  const match = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(text);
  if (!match) throw new Error("not an scrypt hash ($scrypt$ln=..,r=..,p=..$salt$hash)");
  const [ln, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (ln < 1 || ln > MAX_LN || r < 1 || p < 1) throw new Error(`scrypt parameters out of range (ln 1-${MAX_LN})`);
  const salt = b64(match[4] as string);
  const hash = b64(match[5] as string);
  if (salt.length < 8 || hash.length < 16) throw new Error("scrypt salt or hash too short");
  return { ln, r, p, salt, hash };
}

function derive(secret: string, params: Omit<SecretHash, "hash">, length: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  return new Promise((resolve, reject) =>
    scrypt(
      secret,
      params.salt,
      length,
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

export async function hashSecret(secret: string, ln = 14): Promise<string> {
  const params = { ln, r: 8, p: 1, salt: randomBytes(16) };
  const hash = await derive(secret, params, 32);
  return `$scrypt$ln=${ln},r=8,p=1$${unpadded(params.salt)}$${unpadded(hash)}`;
}

export async function verifySecret(secret: string, stored: SecretHash): Promise<boolean> {
  const derived = await derive(secret, stored, stored.hash.length);
  return timingSafeEqual(derived, stored.hash);
}

/** A hash that matches nothing, verified for unknown names so their answer takes as long. */
export const DECOY_HASH: SecretHash = parseSecretHash(
  `$scrypt$ln=14,r=8,p=1$${unpadded(Buffer.alloc(16, 1))}$${unpadded(Buffer.alloc(32))}`,
);

const groupsOf = (field: string | undefined) =>
  (field ?? "")
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g !== "");

function lines(text: string, file: string): { fields: string[]; where: string }[] {
  return text.split(/\r?\n/).flatMap((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return [];
    return [{ fields: line.split(":"), where: `${file}:${i + 1}` }];
  });
}

/** The HTTP Basic users: name -> entry. Throws with the file and line of the first bad entry. */
export function parseCredentials(text: string, file = "credentials"): Map<string, CredentialEntry> {
  const users = new Map<string, CredentialEntry>();
  for (const { fields, where } of lines(text, file)) {
    const [name, hash, groups, ...extra] = fields;
    if (!name || !hash || extra.length > 0) throw new Error(`${where}: expected name:hash[:groups]`);
    if (users.has(name)) throw new Error(`${where}: user "${name}" appears twice`);
    users.set(name, { principal: name, hash: parseEntryHash(hash, where), groups: groupsOf(groups) });
  }
  return users;
}

/** The API keys: key id -> entry. A client presents `<key id>.<secret>`. */
export function parseApiKeys(text: string, file = "api keys"): Map<string, CredentialEntry> {
  const keys = new Map<string, CredentialEntry>();
  for (const { fields, where } of lines(text, file)) {
    const [id, hash, principal, groups, ...extra] = fields;
    if (!id || !hash || !principal || extra.length > 0) {
      throw new Error(`${where}: expected key-id:hash:principal[:groups]`);
    }
    if (id.includes(".")) throw new Error(`${where}: a key id cannot contain "."`);
    if (keys.has(id)) throw new Error(`${where}: key id "${id}" appears twice`);
    keys.set(id, { principal, hash: parseEntryHash(hash, where), groups: groupsOf(groups) });
  }
  return keys;
}

function parseEntryHash(hash: string, where: string): SecretHash {
  try {
    return parseSecretHash(hash);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

export function readCredentialsFile(path: string): Map<string, CredentialEntry> {
  return parseCredentials(readFileSync(path, "utf8"), path);
}

export function readApiKeyFile(path: string): Map<string, CredentialEntry> {
  return parseApiKeys(readFileSync(path, "utf8"), path);
}

export interface SecretVerifier {
  /** True when `secret` matches; a match is remembered so the next request skips scrypt. */
  verify(kind: string, id: string, secret: string, stored: SecretHash | null): Promise<boolean>;
}

/**
 * scrypt is deliberately slow (tens of milliseconds): verified credentials are remembered (as a
 * SHA-256 of kind, id and secret, never the secret itself), and at most `concurrency`
 * verifications run at once, so a flood of wrong passwords cannot take libuv's threadpool.
 */
export function createSecretVerifier(options: { concurrency?: number; maxQueue?: number; cacheSize?: number } = {}) {
  const concurrency = options.concurrency ?? 2;
  const maxQueue = options.maxQueue ?? 256;
  const cacheSize = options.cacheSize ?? 10_000;
  const accepted = new Set<string>();
  let running = 0;
  const waiting: (() => void)[] = [];

  const slot = async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) {
      if (waiting.length >= maxQueue) throw new Error("too many authentication attempts in progress");
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };

  return {
    async verify(kind, id, secret, stored) {
      const fingerprint = createHash("sha256").update(`${kind}\u0000${id}\u0000${secret}`).digest("base64");
      if (stored && accepted.has(fingerprint)) return true;
      const ok = await slot(() => verifySecret(secret, stored ?? DECOY_HASH));
      if (!ok || !stored) return false;
      if (accepted.size >= cacheSize) accepted.delete(accepted.values().next().value as string);
      accepted.add(fingerprint);
      return true;
    },
  } satisfies SecretVerifier;
}
