/**
 * Consumer groups, their members and lag. Groups come from @platformatic/kafka (ListGroups,
 * DescribeGroups, FindCoordinator, OffsetFetch): librdkafka's describeGroups and
 * listConsumerGroupOffsets crash the process when no coordinator is available (see rdkafka.ts).
 * Log-end offsets come from librdkafka's listOffsets.
 */
import type { KafkaAdmin } from "../admin-client.ts";
import { kafkaCall } from "./errors.ts";
import { describeConsumerProtocolGroup } from "./protocol-calls.ts";
import type { GroupInfo, GroupMemberInfo, PartitionLag } from "./types.ts";

const GROUP_KEY = 0;

/** "PreparingRebalance" -> "PREPARING_REBALANCE", as REST Proxy names group states. */
const stateName = (state: string) =>
  state === "" ? "UNKNOWN" : state.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();

async function coordinators(admin: KafkaAdmin, ids: string[]): Promise<Map<string, number>> {
  const found = await kafkaCall(admin.client.findCoordinator({ keyType: GROUP_KEY, keys: ids }));
  return new Map(found.map((c) => [c.key, c.nodeId]));
}

/**
 * The named groups that exist, in the order given. Classic groups are read with DescribeGroups; one
 * that answers as dead and protocol-less may be a KIP-848 group, asked again with
 * ConsumerGroupDescribe; if that knows it neither, it does not exist.
 */
export async function describeGroups(admin: KafkaAdmin, ids: string[]): Promise<GroupInfo[]> {
  if (ids.length === 0) return [];
  const [described, coordinatorOf] = await Promise.all([
    kafkaCall(admin.client.describeGroups({ groups: ids })),
    coordinators(admin, ids),
  ]);
  const out = await Promise.all(
    ids.map(async (id): Promise<GroupInfo | null> => {
      const coordinatorId = coordinatorOf.get(id) ?? -1;
      const classic = described.get(id);
      if (classic && !(classic.state === "Dead" && classic.protocolType === "")) {
        return {
          id,
          isSimple: classic.protocolType === "",
          partitionAssignor: classic.protocol,
          state: stateName(classic.state),
          type: "CLASSIC",
          coordinatorId,
          members: [...classic.members.values()].map((m) => ({
            consumerId: m.id,
            instanceId: m.groupInstanceId ?? null,
            clientId: m.clientId,
            assignments: [...(m.assignments?.values() ?? [])].flatMap((a) =>
              a.partitions.map((partition) => ({ topic: a.topic, partition })),
            ),
          })),
        };
      }
      if (coordinatorId < 0) return null;
      const group = await kafkaCall(describeConsumerProtocolGroup(admin, coordinatorId, id));
      if (!group) return null;
      return {
        id,
        isSimple: false,
        partitionAssignor: group.assignorName,
        state: stateName(group.groupState),
        type: "CONSUMER",
        coordinatorId,
        members: group.members.map((m) => ({
          consumerId: m.memberId,
          instanceId: m.instanceId ?? null,
          clientId: m.clientId,
          assignments: m.assignment.topicPartitions.flatMap((t) =>
            t.partitions.map((partition) => ({ topic: t.topicName, partition })),
          ),
        })),
      };
    }),
  );
  return out.filter((g): g is GroupInfo => g !== null);
}

/** Consumer groups of both protocols (not Connect or share groups), as Java's listConsumerGroups. */
export async function listGroups(admin: KafkaAdmin): Promise<GroupInfo[]> {
  const listed = await kafkaCall(admin.client.listGroups({ types: ["classic", "consumer"] }));
  const ids = [...listed.values()]
    .filter((g) => g.protocolType === "consumer" || g.protocolType === "")
    .map((g) => g.id)
    .sort();
  return describeGroups(admin, ids);
}

export async function getGroup(admin: KafkaAdmin, id: string): Promise<GroupInfo | null> {
  return (await describeGroups(admin, [id]))[0] ?? null;
}

/**
 * Lag of every partition the group has committed an offset for, against the log-end offset as a
 * read_committed consumer sees it (REST Proxy's choice). Null when the group has no committed
 * offsets. A partition whose end offset cannot be read is left out, as REST Proxy leaves it out.
 */
export async function groupLags(admin: KafkaAdmin, group: GroupInfo): Promise<PartitionLag[] | null> {
  const [offsets] = await kafkaCall(admin.client.listConsumerGroupOffsets({ groups: [group.id] }));
  const committed = (offsets?.topics ?? []).flatMap((t) =>
    t.partitions
      .filter((p) => p.committedOffset >= 0n)
      .map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset) })),
  );
  if (committed.length === 0) return null;
  const ends = await kafkaCall(
    admin.rdkafka.listOffsets(
      committed.map(({ topic, partition }) => ({ topic, partition })),
      "latest",
      "read_committed",
    ),
  );
  const endOf = new Map(ends.filter((e) => !e.error).map((e) => [`${e.partition}:${e.topic}`, e.offset]));
  const ownerOf = new Map<string, GroupMemberInfo>();
  for (const member of group.members) {
    for (const a of member.assignments) ownerOf.set(`${a.partition}:${a.topic}`, member);
  }
  const lags: PartitionLag[] = [];
  for (const c of committed) {
    const key = `${c.partition}:${c.topic}`;
    const end = endOf.get(key);
    if (end === undefined) continue;
    lags.push({
      topic: c.topic,
      partition: c.partition,
      currentOffset: c.offset,
      logEndOffset: end,
      // REST Proxy never reports a negative lag.
      lag: Math.max(0, end - c.offset),
      member: ownerOf.get(key) ?? null,
    });
  }
  return lags;
}
