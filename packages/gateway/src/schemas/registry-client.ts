/**
 * The gateway's one Schema Registry client: Confluent's own SchemaRegistryClient (with its LRU
 * caches) behind the few calls REST Proxy's SchemaManager makes. Every registry failure leaves
 * here as a RestError (registry-errors.ts), so no route sees an axios error.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
// The client alone: the package's index also loads its KMS drivers (AWS, Azure, GCP, Vault SDKs),
// which took 6.5 s against 2.2 s for this module on a busy 2-core machine, for nothing Wharf uses.
import type { ClientConfig } from "@confluentinc/schemaregistry/dist/rest-service.js";
import { type SchemaInfo, SchemaRegistryClient } from "@confluentinc/schemaregistry/dist/schemaregistry-client.js";
import type { Counter } from "prom-client";
import { badRequestException } from "../errors.ts";
import { registryFailure } from "./registry-errors.ts";
import type { SchemaRegistryConfig } from "./settings.ts";

export type SchemaType = "AVRO" | "JSON" | "PROTOBUF";

export interface RegistrySchema {
  schemaType: SchemaType;
  schema: string;
  references: Array<{ name: string; subject: string; version: number }>;
}

export interface SubjectSchema extends RegistrySchema {
  id: number;
  subject: string;
  version: number;
}

export interface SchemaRegistry {
  /** The schema with this id (GET /schemas/ids/{id}). */
  byId(id: number): Promise<RegistrySchema>;
  /** The schema's id under the subject, registering it first if it is not there yet (REST Proxy's order). */
  findOrRegister(subject: string, schema: RegistrySchema): Promise<number>;
  /** The version of an already registered schema under the subject. */
  versionOf(subject: string, schema: RegistrySchema): Promise<number>;
  /** A subject's version, or its latest when version is null. */
  byVersion(subject: string, version: number | null): Promise<SubjectSchema>;
  close(): void;
}

type Outcome = "ok" | "client_error" | "server_error" | "unreachable";

/** Only what this file calls on axios's instance, which the Confluent client keeps private. */
interface AxiosLike {
  interceptors: {
    response: {
      use(ok: (r: { status: number }) => unknown, fail: (e: { response?: { status: number } }) => unknown): void;
    };
  };
}

const info = (s: RegistrySchema): SchemaInfo => ({
  schema: s.schema,
  // Confluent's registry leaves schemaType out for AVRO; sending it is accepted as well.
  ...(s.schemaType === "AVRO" ? {} : { schemaType: s.schemaType }),
  ...(s.references.length > 0 ? { references: s.references } : {}),
});

const toRegistrySchema = (i: SchemaInfo): RegistrySchema => ({
  schemaType: (i.schemaType || "AVRO").toUpperCase() as SchemaType,
  schema: i.schema,
  references: i.references ?? [],
});

export function createSchemaRegistry(config: SchemaRegistryConfig, requests: Counter<"outcome">): SchemaRegistry {
  const headers: Record<string, string> = {};
  if (config.bearer) {
    // The Confluent client's own bearer support insists on Confluent Cloud's logical cluster, so a
    // static token for any registry goes in as a plain header instead.
    headers.Authorization = `Bearer ${config.bearer.token}`;
    if (config.bearer.logicalCluster) headers["target-sr-cluster"] = config.bearer.logicalCluster;
    if (config.bearer.identityPoolId) headers["Confluent-Identity-Pool-Id"] = config.bearer.identityPoolId;
  }
  const { tls } = config;
  // Own agents, so close() can end their kept-alive sockets instead of leaving them to the global ones.
  const httpAgent = new HttpAgent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({
    keepAlive: true,
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.passphrase ? { passphrase: tls.passphrase } : {}),
    ...(tls.checkHostname ? {} : { checkServerIdentity: () => undefined }),
  });
  const clientConfig: ClientConfig = {
    baseURLs: config.urls,
    cacheCapacity: config.cacheCapacity,
    // Applies to every cache of the client, not only "latest"; ids re-fetched once a minute cost nothing.
    cacheLatestTtlSecs: config.latestCacheTtlSecs,
    createAxiosDefaults: { timeout: config.requestTimeoutMs, headers, httpAgent, httpsAgent },
    ...(config.basicAuth
      ? { basicAuthCredentials: { credentialsSource: "USER_INFO", userInfo: config.basicAuth } }
      : {}),
    // One quick retry, then the failure is the client's to retry (a retriable 5xx): a produce
    // request must not hang for the library's default of three retries up to 20 s apart.
    maxRetries: 1,
    retriesWaitMs: 50,
    retriesMaxWaitMs: 200,
  };
  const client = new SchemaRegistryClient(clientConfig);

  // Counts what actually went over the wire (cache misses, retries), by outcome, for
  // wharf_schema_registry_requests_total: the only way in is axios's instance inside the client.
  const axios = (client as unknown as { restService?: { client?: AxiosLike } }).restService?.client;
  const count = (outcome: Outcome) => requests.inc({ outcome });
  axios?.interceptors.response.use(
    (response) => {
      count("ok");
      return response;
    },
    (error) => {
      const status = error.response?.status;
      count(status === undefined ? "unreachable" : status >= 500 ? "server_error" : "client_error");
      return Promise.reject(error);
    },
  );

  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw registryFailure(error, what);
    }
  };

  return {
    byId: (id) =>
      call(`Error when fetching schema by id. schemaId = ${id}`, async () =>
        toRegistrySchema(await client.getBySubjectAndId("", id)),
      ),
    async findOrRegister(subject, schema) {
      try {
        return await client.getId(subject, info(schema));
      } catch {
        // Not there yet (or the lookup failed): register it, as REST Proxy does; a registry that
        // is down fails the registration too.
        return call(`Error when registering schema. format = ${schema.schemaType}, subject = ${subject}`, () =>
          client.register(subject, info(schema)),
        );
      }
    },
    versionOf: (subject, schema) =>
      call(`Error when fetching schema version. subject = ${subject}`, () => client.getVersion(subject, info(schema))),
    async byVersion(subject, version) {
      try {
        const m =
          version === null
            ? await client.getLatestSchemaMetadata(subject)
            : await client.getSchemaMetadata(subject, version);
        return {
          ...toRegistrySchema(m),
          id: m.id as number,
          subject: m.subject ?? subject,
          version: m.version as number,
        };
      } catch (error) {
        if (version === null)
          throw registryFailure(error, `Error when fetching latest schema version. subject = ${subject}`);
        const failure = registryFailure(error, `Error when fetching schema by version. subject = ${subject}`);
        // REST Proxy answers any failure to find a version with a plain 400.
        if (failure.status >= 500) throw failure;
        throw badRequestException(`Schema does not exist for subject: ${subject}, version: ${version}`);
      }
    },
    close() {
      client.close();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
