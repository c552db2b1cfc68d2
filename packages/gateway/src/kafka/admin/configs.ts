/**
 * Topic, broker and cluster-wide broker configs: DescribeConfigs and IncrementalAlterConfigs from
 * @platformatic/kafka (librdkafka's binding has neither). Cluster-wide defaults go through
 * protocol-calls.ts, see there why.
 */
import {
  ConfigResourceTypes,
  type describeConfigsV4,
  IncrementalAlterConfigOperationTypes,
  type incrementalAlterConfigsV1,
} from "@platformatic/kafka";
import type { KafkaAdmin } from "../admin-client.ts";
import { getBroker } from "./cluster.ts";
import { kafkaCall, notFound, unknownTopicOrPartition } from "./errors.ts";
import { alterClusterConfigs, describeClusterConfigs } from "./protocol-calls.ts";
import { findTopic } from "./topics.ts";
import type { AlterConfigCommand, ConfigEntry, ConfigResource } from "./types.ts";

/** Kafka's ConfigSource codes, named as REST Proxy names them. */
const sources: Record<number, string> = {
  1: "DYNAMIC_TOPIC_CONFIG",
  2: "DYNAMIC_BROKER_CONFIG",
  3: "DYNAMIC_DEFAULT_BROKER_CONFIG",
  4: "STATIC_BROKER_CONFIG",
  5: "DEFAULT_CONFIG",
  6: "DYNAMIC_BROKER_LOGGER_CONFIG",
  8: "DYNAMIC_GROUP_CONFIG",
};
const sourceName = (code: number) => sources[code] ?? "UNKNOWN";

type RawConfig = describeConfigsV4.DescribeConfigsResponseConfig;

function toEntry(raw: RawConfig): ConfigEntry {
  return {
    name: raw.name,
    value: raw.value ?? null,
    // As the Java admin client computes it since DescribeConfigs v1.
    isDefault: raw.configSource === 5,
    isReadOnly: raw.readOnly,
    isSensitive: raw.isSensitive,
    source: sourceName(raw.configSource),
    synonyms: raw.synonyms.map((s) => ({ name: s.name, value: s.value ?? null, source: sourceName(s.source) })),
  };
}

/** The resource as the admin API names it; null for the cluster-wide defaults. */
function target(resource: ConfigResource) {
  if (resource.type === "topic") return { resourceType: ConfigResourceTypes.TOPIC, resourceName: resource.topic };
  if (resource.type === "broker") {
    return { resourceType: ConfigResourceTypes.BROKER, resourceName: String(resource.brokerId) };
  }
  return null;
}

/** A quick, clear 404 for an unknown topic or broker (else the client retries several times first). */
async function ensureExists(admin: KafkaAdmin, resource: ConfigResource): Promise<void> {
  if (resource.type === "topic" && !(await findTopic(admin, resource.topic))) {
    throw unknownTopicOrPartition();
  }
  if (resource.type === "broker") {
    await getBroker(admin, resource.brokerId, `Broker ${resource.brokerId} cannot be found.`);
  }
}

/** Every config of the resource, sorted by name (for the cluster: only the dynamic ones). */
export async function describeConfigs(admin: KafkaAdmin, resource: ConfigResource): Promise<ConfigEntry[]> {
  await ensureExists(admin, resource);
  const named = target(resource);
  let raw: RawConfig[];
  if (named === null) {
    raw = await describeClusterConfigs(admin);
  } else {
    const [description] = await kafkaCall(admin.client.describeConfigs({ resources: [named], includeSynonyms: true }));
    raw = description?.configs ?? [];
  }
  return raw.map(toEntry).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const resourceLabel = (resource: ConfigResource) =>
  resource.type === "topic"
    ? `TOPIC ${resource.topic}`
    : resource.type === "broker"
      ? `BROKER ${resource.brokerId}`
      : "BROKER ";

/**
 * Applies the commands atomically. With `checkNames`, a name the resource does not have is 404
 * before anything is sent, as REST Proxy's "safe" updates do; cluster-wide upserts skip the check
 * because only configs already set dynamically are listed there.
 */
export async function alterConfigs(
  admin: KafkaAdmin,
  clusterId: string,
  resource: ConfigResource,
  commands: AlterConfigCommand[],
  options: { validateOnly?: boolean; checkNames?: boolean } = {},
): Promise<void> {
  if (!options.checkNames) {
    await ensureExists(admin, resource);
  } else {
    const names = new Set((await describeConfigs(admin, resource)).map((c) => c.name));
    const missing = commands.find((c) => !names.has(c.name));
    if (missing) {
      throw notFound(`Config ${missing.name} cannot be found for ${resourceLabel(resource)} in cluster ${clusterId}.`);
    }
  }
  // A SET without a value is passed on as null; the broker refuses it (INVALID_REQUEST, 40002).
  const configs = commands.map(
    (c) =>
      ({
        name: c.name,
        configOperation:
          c.operation === "SET"
            ? IncrementalAlterConfigOperationTypes.SET
            : IncrementalAlterConfigOperationTypes.DELETE,
        value: c.value,
      }) as incrementalAlterConfigsV1.IncrementalAlterConfigsRequestConfig,
  );
  const named = target(resource);
  if (named === null) {
    await alterClusterConfigs(admin, configs);
    return;
  }
  await kafkaCall(
    admin.client.incrementalAlterConfigs({
      resources: [{ ...named, configs }],
      validateOnly: options.validateOnly ?? false,
    }),
  );
}

/** One config of the resource, or null. */
export async function getConfig(admin: KafkaAdmin, resource: ConfigResource, name: string) {
  return (await describeConfigs(admin, resource)).find((c) => c.name === name) ?? null;
}
