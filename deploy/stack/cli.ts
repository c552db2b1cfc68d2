import { parseArgs } from "node:util";
import { StackError } from "./errors.ts";
import { defaultDir, readStackInfo, type StackOptions, startStack, stopStack } from "./stack.ts";

const USAGE = `usage:
  pnpm stack up [--brokers 1|3] [--gateways N] [--lb] [--authorizer] [--sasl-ssl] [--kafka host:port,...]
                [--redis url | --redis-local | --redis-sentinel] [--schema-registry [--schema-registry-port P]]
                [--gateway-port P] [--lb-port P] [--dir D]
  pnpm stack down [--dir D]
  pnpm stack status [--dir D]

up prints one JSON line on stdout once everything is ready; progress goes to stderr.
Defaults: 1 broker, 1 gateway on port 8082, state in <repo>/.stack.`;

const OPTIONS = {
  brokers: { type: "string" },
  gateways: { type: "string" },
  lb: { type: "boolean" },
  authorizer: { type: "boolean" },
  "sasl-ssl": { type: "boolean" },
  kafka: { type: "string" },
  redis: { type: "string" },
  "redis-local": { type: "boolean" },
  "redis-sentinel": { type: "boolean" },
  "schema-registry": { type: "boolean" },
  "schema-registry-port": { type: "string" },
  "gateway-port": { type: "string" },
  "lb-port": { type: "string" },
  dir: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

function toInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new StackError("STACK_BAD_OPTION", `--${name} wants a whole number, got "${value}"`);
  return Number(value);
}

function upOptions(values: Values): StackOptions {
  return {
    brokers: toInt("brokers", values.brokers),
    gateways: toInt("gateways", values.gateways),
    lb: values.lb,
    lbPort: toInt("lb-port", values["lb-port"]),
    authorizer: values.authorizer,
    saslSsl: values["sasl-ssl"],
    kafka: values.kafka,
    redis: values.redis,
    redisLocal: values["redis-local"],
    redisSentinel: values["redis-sentinel"],
    schemaRegistry: values["schema-registry"],
    schemaRegistryPort: toInt("schema-registry-port", values["schema-registry-port"]),
    gatewayPort: toInt("gateway-port", values["gateway-port"]),
    dir: values.dir,
  };
}

async function up(values: Values): Promise<void> {
  const dir = values.dir ?? defaultDir();
  // Started processes are detached and would outlive a Ctrl-C: undo them from the state file.
  const interrupted = () => {
    process.stderr.write("[stack] interrupted, stopping what was started\n");
    stopStack(dir).finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const info = await startStack(upOptions(values));
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const [command, ...rest] = positionals;
  if (values.help || !command || rest.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case "up":
      await up(values);
      return 0;
    case "down":
      await stopStack(values.dir ?? defaultDir());
      return 0;
    case "status": {
      const info = readStackInfo(values.dir ?? defaultDir());
      if (!info) {
        process.stderr.write("[stack] no stack here\n");
        return 1;
      }
      process.stdout.write(`${JSON.stringify(info)}\n`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`[stack] ${message}\n`);
    process.exit(error instanceof StackError && error.code === "STACK_BAD_OPTION" ? 2 : 1);
  },
);
