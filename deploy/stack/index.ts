/** The stack's programmatic door, for tests: everything else in deploy/stack is internal. */
export {
  killGateway,
  killRedis,
  restartLoadBalancer,
  signalBroker,
  startBroker,
  startGateway,
  startRedis,
  stopRedis,
} from "./control.ts";
export { StackError, type StackErrorCode } from "./errors.ts";
export {
  readStackInfo,
  type StackOptions,
  startStack,
  stopStack,
} from "./stack.ts";
export type { SaslSslInfo, StackInfo } from "./state.ts";
export { type CertificateFiles, createTestCa, type TestCa } from "./tls.ts";
