import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { ProcessRef } from "./processes.ts";
import { type RedisSentinelInfo, type RedisSentinelState, sentinelInfo } from "./redis-sentinel.ts";

/** What `up` started and where, kept in <dir>/state.json so `down` (another process) can undo it. */
export interface StackState {
  version: 1;
  dir: string;
  clusterSecret: string;
  kafka: KafkaState;
  redis: RedisState | null;
  /** With --redis-sentinel (instead of `redis`): primary, replica and three sentinels. */
  redisSentinel?: RedisSentinelState | null;
  lb: LbState | null;
  gateways: GatewayState[];
  /** With --schema-registry: the stack's Schema Registry stand-in. */
  schemaRegistry?: SchemaRegistryState | null;
}

/** The SASL_SSL listener of a stack started with --sasl-ssl. */
export interface SaslSslInfo {
  bootstrap: string;
  /** PEM file of the CA that signed the brokers' certificates. */
  caFile: string;
  mechanism: string;
  username: string;
  password: string;
  /** The OIDC listener: OAUTHBEARER tokens signed with this key, for this audience and issuer. */
  oidc: OidcInfo;
}

/** What a test's token endpoint needs to issue tokens the OIDC listener accepts (RS256 JWTs). */
export interface OidcInfo {
  bootstrap: string;
  /** PEM (PKCS#8) RSA private key whose public half is in the brokers' JWKS. */
  privateKeyFile: string;
  /** The key's id in the JWKS: the `kid` a token's header must name. */
  kid: string;
  /** The `aud` claim the brokers require. */
  audience: string;
  /** The `iss` claim the brokers require. */
  issuer: string;
}

export interface KafkaState {
  bootstrap: string;
  saslSsl?: SaslSslInfo | null;
  /** Empty when the stack reuses an existing cluster (--kafka). */
  brokers: BrokerState[];
}

export interface BrokerState extends ProcessRef {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  /** Extra JVM options it was started with, replayed on a restart (absent in older state files). */
  jvmOptions?: string[];
}

export interface RedisState {
  url: string;
  port: number;
  logFile: string;
  /** Null when the stack reuses an external Redis (--redis url). */
  process: ProcessRef | null;
}

export interface LbState extends ProcessRef {
  url: string;
  port: number;
  configFile: string;
  logFile: string;
}

export interface SchemaRegistryState extends ProcessRef {
  url: string;
  port: number;
  bootstrap: string;
  topic: string;
  logFile: string;
}

export interface GatewayState extends ProcessRef {
  id: string;
  url: string;
  internalUrl: string;
  port: number;
  internalPort: number;
  /** The script run by node (packages/gateway/src/main.ts unless overridden). */
  main: string;
  logFile: string;
  /** The variables the stack sets for this gateway, replayed on a restart. */
  env: Record<string, string>;
}

/** The public view that `up` prints and `startStack` returns. */
export interface StackInfo {
  lb: string | null;
  gateways: { id: string; url: string; internalUrl: string; pid: number }[];
  kafka: string;
  /** With --sasl-ssl: where and how to reach the brokers over SASL_SSL (`mechanism` names one of those the listener accepts). */
  saslSsl: SaslSslInfo | null;
  brokers: { id: number; pid: number; port: number }[];
  redis: string | null;
  /** With --redis-sentinel: the gateways' `redis.sentinels` and `redis.master.name`. */
  redisSentinel: RedisSentinelInfo | null;
  /** With --schema-registry: the base URL of its Schema Registry, passed to the gateways. */
  schemaRegistry: string | null;
  dir: string;
  clusterSecret: string;
}

const STATE_FILE = "state.json";
/** Everything the stack creates inside its directory; `down` removes these and nothing else. */
const OWNED = [STATE_FILE, "kafka", "redis", "redis-sentinel", "haproxy", "gateways", "tls", "schema-registry"];

export function toInfo(state: StackState): StackInfo {
  return {
    lb: state.lb?.url ?? null,
    gateways: state.gateways.map((g) => ({
      id: g.id,
      url: g.url,
      internalUrl: g.internalUrl,
      pid: g.pid,
    })),
    kafka: state.kafka.bootstrap,
    saslSsl: state.kafka.saslSsl ?? null,
    brokers: state.kafka.brokers.map((b) => ({
      id: b.id,
      pid: b.pid,
      port: b.port,
    })),
    redis: state.redis?.url ?? null,
    redisSentinel: state.redisSentinel ? sentinelInfo(state.redisSentinel) : null,
    schemaRegistry: state.schemaRegistry?.url ?? null,
    dir: state.dir,
    clusterSecret: state.clusterSecret,
  };
}

export function readState(dir: string): StackState | null {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")) as StackState;
}

/** Written after every process start, so a `down` after a crashed `up` still finds what it left. */
export function writeState(state: StackState): void {
  mkdirSync(state.dir, { recursive: true });
  const file = join(state.dir, STATE_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function removeStackFiles(dir: string): void {
  for (const name of OWNED) rmSync(join(dir, name), { recursive: true, force: true });
  rmSync(join(dir, `${STATE_FILE}.tmp`), { force: true });
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Already gone, or holds files that are not ours: leave it.
  }
}
