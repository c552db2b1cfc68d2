/**
 * Schema Registry settings, with the names Confluent's REST Proxy and clients use
 * (`schema.registry.*`). Without `schema.registry.url` the avro, jsonschema and protobuf formats
 * answer 42206/42207, as REST Proxy does without a registry.
 */
import { readFileSync } from "node:fs";

export type SubjectNameStrategy = "TOPIC_NAME" | "RECORD_NAME" | "TOPIC_RECORD_NAME";

export interface SchemaRegistryConfig {
  /** One or more registry base URLs (Confluent's comma list); requests fail over between them. */
  urls: string[];
  /** `user:password` for HTTP basic auth, from USER_INFO or from the URL's user info. */
  basicAuth: string | null;
  /** A static bearer token (STATIC_TOKEN), with Confluent Cloud's optional routing headers. */
  bearer: { token: string; logicalCluster: string | null; identityPoolId: string | null } | null;
  /** PEM contents, read once at start-up; null uses Node's default trust store and no client cert. */
  tls: {
    ca: string | null;
    cert: string | null;
    key: string | null;
    passphrase: string | null;
    checkHostname: boolean;
  };
  /** How a subject is named when the request does not name one (REST Proxy's *.subject.name.strategy). */
  keySubjectNameStrategy: SubjectNameStrategy;
  valueSubjectNameStrategy: SubjectNameStrategy;
  /** Wharf's own: one registry request's timeout; a registry that does not answer is a retriable 5xx. */
  requestTimeoutMs: number;
  /** Entries in each of the client's caches (schemas by id, ids by schema...). */
  cacheCapacity: number;
  /**
   * How long the client trusts what it cached (Confluent's latest.cache.ttl.sec), so a subject's
   * new latest version is seen. Wharf keeps compiled schemas by id for good: an id never changes.
   */
  latestCacheTtlSecs: number;
}

const P = "schema.registry.";
export const schemaRegistryKeys = [
  `${P}url`,
  `${P}basic.auth.credentials.source`,
  `${P}basic.auth.user.info`,
  `${P}bearer.auth.credentials.source`,
  `${P}bearer.auth.token`,
  `${P}bearer.auth.logical.cluster`,
  `${P}bearer.auth.identity.pool.id`,
  `${P}ssl.ca.location`,
  `${P}ssl.certificate.location`,
  `${P}ssl.key.location`,
  `${P}ssl.key.password`,
  `${P}ssl.endpoint.identification.algorithm`,
  `${P}key.subject.name.strategy`,
  `${P}value.subject.name.strategy`,
  `${P}request.timeout.ms`,
  `${P}cache.capacity`,
  `${P}latest.cache.ttl.sec`,
] as const;

/** Confluent's strategy classes (io.confluent.kafka.serializers.subject.*), or their short names. */
const strategyNames: Record<string, SubjectNameStrategy> = {
  TopicNameStrategy: "TOPIC_NAME",
  RecordNameStrategy: "RECORD_NAME",
  TopicRecordNameStrategy: "TOPIC_RECORD_NAME",
  TOPIC_NAME: "TOPIC_NAME",
  RECORD_NAME: "RECORD_NAME",
  TOPIC_RECORD_NAME: "TOPIC_RECORD_NAME",
};

function parseStrategy(props: Record<string, string>, key: string, problems: string[]): SubjectNameStrategy {
  const raw = props[key]?.trim();
  if (!raw) return "TOPIC_NAME";
  const short = raw.startsWith("io.confluent.kafka.serializers.subject.") ? raw.slice(raw.lastIndexOf(".") + 1) : raw;
  const strategy = strategyNames[short];
  if (!strategy) {
    problems.push(`"${key}" must be TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy, got "${raw}"`);
    return "TOPIC_NAME";
  }
  return strategy;
}

function readPem(props: Record<string, string>, key: string, problems: string[]): string | null {
  const path = props[key]?.trim();
  if (!path) return null;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    problems.push(`"${key}": cannot read ${path} (${(error as Error).message})`);
    return null;
  }
}

function parseInteger(
  props: Record<string, string>,
  key: string,
  fallback: number,
  min: number,
  problems: string[],
): number {
  const raw = props[key]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    problems.push(`"${key}" must be an integer of at least ${min}, got "${raw}"`);
    return fallback;
  }
  return n;
}

function parseUrls(raw: string, problems: string[]): { urls: string[]; userInfo: string | null } {
  const urls: string[] = [];
  let userInfo: string | null = null;
  for (const part of raw.split(",")) {
    const candidate = part.trim();
    if (candidate === "") continue;
    try {
      const url = new URL(candidate);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("only http:// or https://");
      if (url.username && userInfo === null) {
        userInfo = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      }
      // Credentials never travel in the URL itself: they become an Authorization header.
      url.username = "";
      url.password = "";
      urls.push(url.toString().replace(/\/$/, ""));
    } catch (error) {
      problems.push(
        `"schema.registry.url" must be a comma list of URLs, got "${candidate}" (${(error as Error).message})`,
      );
    }
  }
  return { urls, userInfo };
}

function parseBasicAuth(props: Record<string, string>, urlUserInfo: string | null, problems: string[]) {
  const source = props[`${P}basic.auth.credentials.source`]?.trim().toUpperCase() || null;
  const userInfo = props[`${P}basic.auth.user.info`]?.trim() || null;
  if (source === null) return userInfo ?? urlUserInfo;
  if (source === "URL") {
    if (urlUserInfo === null) problems.push(`"${P}basic.auth.credentials.source" is URL but no URL has user info`);
    return urlUserInfo;
  }
  if (source === "USER_INFO") {
    if (userInfo === null || !userInfo.includes(":")) {
      problems.push(`"${P}basic.auth.user.info" must be user:password when the credentials source is USER_INFO`);
    }
    return userInfo;
  }
  problems.push(`"${P}basic.auth.credentials.source" must be USER_INFO or URL, got "${source}"`);
  return null;
}

function parseBearer(props: Record<string, string>, problems: string[]): SchemaRegistryConfig["bearer"] {
  const source = props[`${P}bearer.auth.credentials.source`]?.trim().toUpperCase() || null;
  const token = props[`${P}bearer.auth.token`]?.trim() || null;
  if (source === null && token === null) return null;
  if (source !== null && source !== "STATIC_TOKEN") {
    problems.push(`"${P}bearer.auth.credentials.source" must be STATIC_TOKEN, got "${source}"`);
    return null;
  }
  if (token === null) {
    problems.push(`"${P}bearer.auth.token" is required with the STATIC_TOKEN credentials source`);
    return null;
  }
  return {
    token,
    logicalCluster: props[`${P}bearer.auth.logical.cluster`]?.trim() || null,
    identityPoolId: props[`${P}bearer.auth.identity.pool.id`]?.trim() || null,
  };
}

export function parseSchemaRegistry(props: Record<string, string>, problems: string[]): SchemaRegistryConfig | null {
  const raw = props[`${P}url`]?.trim();
  if (!raw) return null;
  const { urls, userInfo } = parseUrls(raw, problems);
  const basicAuth = parseBasicAuth(props, userInfo, problems);
  const bearer = parseBearer(props, problems);
  if (basicAuth !== null && bearer !== null) {
    problems.push(`schema registry basic auth and bearer auth are exclusive; configure one of them`);
  }
  const algorithm = props[`${P}ssl.endpoint.identification.algorithm`]?.trim().toLowerCase() ?? "https";
  if (algorithm !== "https" && algorithm !== "") {
    problems.push(`"${P}ssl.endpoint.identification.algorithm" must be https or empty, got "${algorithm}"`);
  }
  const config: SchemaRegistryConfig = {
    urls,
    basicAuth,
    bearer,
    tls: {
      ca: readPem(props, `${P}ssl.ca.location`, problems),
      cert: readPem(props, `${P}ssl.certificate.location`, problems),
      key: readPem(props, `${P}ssl.key.location`, problems),
      passphrase: props[`${P}ssl.key.password`] ?? null,
      checkHostname: algorithm === "https",
    },
    keySubjectNameStrategy: parseStrategy(props, `${P}key.subject.name.strategy`, problems),
    valueSubjectNameStrategy: parseStrategy(props, `${P}value.subject.name.strategy`, problems),
    requestTimeoutMs: parseInteger(props, `${P}request.timeout.ms`, 10_000, 1, problems),
    cacheCapacity: parseInteger(props, `${P}cache.capacity`, 1000, 1, problems),
    latestCacheTtlSecs: parseInteger(props, `${P}latest.cache.ttl.sec`, 60, 1, problems),
  };
  if ((config.tls.cert === null) !== (config.tls.key === null)) {
    problems.push(`"${P}ssl.certificate.location" and "${P}ssl.key.location" go together`);
  }
  return urls.length > 0 ? config : null;
}
