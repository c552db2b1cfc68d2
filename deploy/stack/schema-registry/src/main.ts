/**
 * node deploy/stack/schema-registry/src/main.ts --bootstrap host:port [--port 8081] [--host 127.0.0.1] [--topic _schemas]
 * A test stand-in for Confluent's Schema Registry, started by the local stack; not part of Wharf.
 */
import { parseArgs } from "node:util";
import { type StandinConfig, startStandin } from "./server.ts";

function config(argv: string[]): StandinConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      bootstrap: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8081" },
      topic: { type: "string", default: "_schemas" },
    },
    strict: true,
  });
  if (!values.bootstrap) throw new Error("--bootstrap host:port[,host:port...] is required");
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) throw new Error(`--port: not a port: ${values.port}`);
  if (!/^[A-Za-z0-9._-]+$/.test(values.topic)) throw new Error(`--topic: not a topic name: ${values.topic}`);
  return { host: values.host, port: Number(values.port), bootstrap: values.bootstrap, topic: values.topic };
}

async function main(): Promise<void> {
  const standin = await startStandin(config(process.argv.slice(2)));
  console.log(JSON.stringify({ level: "info", msg: "schema registry stand-in listening", url: standin.url }));
  const stop = (signal: string) => {
    console.log(JSON.stringify({ level: "info", msg: `stopping on ${signal}` }));
    standin.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ level: "error", msg: error instanceof Error ? error.message : String(error) }));
  process.exit(1);
});
