/**
 * Ongoing partition reassignments, read with ListPartitionReassignments (see protocol-calls.ts:
 * neither admin client has it as a method). Starting or cancelling one is not part of REST Proxy's
 * v3 API, so Wharf does not offer it either.
 */
import type { KafkaAdmin } from "../admin-client.ts";
import { listReassignments as listFromKafka } from "./protocol-calls.ts";
import type { Reassignment } from "./types.ts";

/** Every ongoing reassignment, sorted by topic and partition. */
export async function listReassignments(admin: KafkaAdmin): Promise<Reassignment[]> {
  const topics = await listFromKafka(admin);
  return topics
    .flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        replicas: p.replicas,
        addingReplicas: p.addingReplicas,
        removingReplicas: p.removingReplicas,
      })),
    )
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}
