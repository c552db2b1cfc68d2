/**
 * A gateway in a process of its own, for tests that pause it for real (SIGSTOP): started with
 * child_process.fork(this file, [JSON settings]). Every keyed send waits at the seam between its
 * claim and its write (GatewayOptions.holdKeyedWrite) and tells the parent `{ held: true }`; the
 * parent's "release" lets them all go on, and `{ sent: true }` follows once they have handed their
 * records to librdkafka. It reports `{ url }` once listening, and "close" ends it.
 */
import { createGateway, parseConfig } from "../../src/index.ts";
import { silentLogger } from "../../src/log.ts";

let release = () => {};
const gate = new Promise<void>((resolve) => {
  release = resolve;
});
const gateway = await createGateway(parseConfig(JSON.parse(process.argv[2] ?? "{}")), {
  audit: silentLogger,
  holdKeyedWrite: () => {
    process.send?.({ held: true });
    return gate;
  },
});
process.on("message", (message) => {
  if (message === "release") {
    release();
    // After the sends' continuations (microtasks): each has called producer.produce by then.
    setImmediate(() => process.send?.({ sent: true }));
  }
  if (message === "close") void gateway.close().then(() => process.exit(0));
});
const { url } = await gateway.listen();
process.send?.({ url });
