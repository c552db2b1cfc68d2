/** ACLs: CreateAcls, DescribeAcls and DeleteAcls from @platformatic/kafka (librdkafka's binding has none). */
import type { Acl, AclFilter as KafkaAclFilter } from "@platformatic/kafka";
import type { KafkaAdmin } from "../admin-client.ts";
import { kafkaCall } from "./errors.ts";
import {
  type AclBinding,
  type AclFilter,
  aclOperations,
  aclPatternTypes,
  aclPermissions,
  aclResourceTypes,
} from "./types.ts";

// Kafka's codes are the positions in these lists; codes Confluent does not name (USER,
// CREATE_TOKENS...) read as UNKNOWN, as REST Proxy reads them.
const nameOf = <T extends string>(names: readonly T[], code: number): T => names[code] ?? (names[0] as T);
const codeOf = (names: readonly string[], name: string) => names.indexOf(name);

function toKafka(filter: AclFilter): KafkaAclFilter {
  return {
    resourceType: codeOf(aclResourceTypes, filter.resourceType),
    resourceName: filter.resourceName,
    resourcePatternType: codeOf(aclPatternTypes, filter.patternType),
    principal: filter.principal,
    host: filter.host,
    operation: codeOf(aclOperations, filter.operation),
    permissionType: codeOf(aclPermissions, filter.permission),
  } as KafkaAclFilter;
}

function fromKafka(acl: Acl): AclBinding {
  return {
    resourceType: nameOf(aclResourceTypes, acl.resourceType),
    resourceName: acl.resourceName,
    patternType: nameOf(aclPatternTypes, acl.resourcePatternType),
    principal: acl.principal,
    host: acl.host,
    operation: nameOf(aclOperations, acl.operation),
    permission: nameOf(aclPermissions, acl.permissionType),
  };
}

/** REST Proxy's order: by resource type, name, pattern, principal, host, operation, permission. */
function sortBindings(bindings: AclBinding[]): AclBinding[] {
  const rank = (b: AclBinding) => [
    codeOf(aclResourceTypes, b.resourceType),
    b.resourceName,
    codeOf(aclPatternTypes, b.patternType),
    b.principal,
    b.host,
    codeOf(aclOperations, b.operation),
    codeOf(aclPermissions, b.permission),
  ];
  return bindings.sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) {
      const x = ra[i] as string | number;
      const y = rb[i] as string | number;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}

export async function searchAcls(admin: KafkaAdmin, filter: AclFilter): Promise<AclBinding[]> {
  const resources = await kafkaCall(admin.client.describeAcls({ filter: toKafka(filter) }));
  return sortBindings(
    resources.flatMap((resource) =>
      resource.acls.map((entry) =>
        fromKafka({
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
          resourcePatternType: resource.resourcePatternType,
          ...entry,
        }),
      ),
    ),
  );
}

export async function createAcls(admin: KafkaAdmin, bindings: AclBinding[]): Promise<void> {
  await kafkaCall(admin.client.createAcls({ creations: bindings.map((b) => toKafka(b) as Acl) }));
}

/** Deletes what matches the filter and returns what was deleted. */
export async function deleteAcls(admin: KafkaAdmin, filter: AclFilter): Promise<AclBinding[]> {
  const deleted = await kafkaCall(admin.client.deleteAcls({ filters: [toKafka(filter)] }));
  return sortBindings(deleted.map(fromKafka));
}
