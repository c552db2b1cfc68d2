/** The stack's programmatic door, for tests: everything else in deploy/stack is internal. */
export {
  killGateway,
  killRedis,
  killRedisPrimary,
  redisPrimary,
  restartLoadBalancer,
  restartRedisReplica,
  signalBroker,
  signalRedisReplica,
  startBroker,
  startGateway,
  startRedis,
  startSchemaRegistry,
  stopRedis,
  stopSchemaRegistry,
  waitForRedisFailover,
} from "./control.ts";
export { StackError, type StackErrorCode } from "./errors.ts";
export { type RedisClusterHandle, startRedisCluster } from "./redis-cluster.ts";
export type { RedisSentinelInfo } from "./redis-sentinel.ts";
export {
  readStackInfo,
  type StackOptions,
  startStack,
  stopStack,
} from "./stack.ts";
export type { SaslSslInfo, StackInfo } from "./state.ts";
export { type CertificateFiles, createTestCa, type TestCa } from "./tls.ts";
