/** Process entry point: load config, start one gateway, stop it gracefully on SIGTERM/SIGINT. */
import { ConfigError, loadConfig } from "./config.ts";
import { createGateway } from "./gateway.ts";
import { createLogger } from "./log.ts";

const configFile = process.argv[2];
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env, configFile);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`wharf: ${error.message}\n`);
  process.exit(2);
}

const log = createLogger(config.logLevel, { node: config.id });
const gateway = await createGateway(config, { log });
await gateway.listen();

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info("signal received", { signal });
  try {
    await gateway.close();
    process.exit(0);
  } catch (error) {
    log.error("shutdown failed", { error: String(error) });
    process.exit(1);
  }
};
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
