/**
 * Confluent's Python client as an independent reader and writer of the Confluent wire format
 * (wire-decode.py beside this file), for tests that must not judge the code under test by itself.
 * The interpreter is deploy/setup.sh's venv: WHARF_PYTHON, else $WHARF_TOOLS/py (default ~/.cache/wharf/py).
 */
import { spawn } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";

export type WireFormat = "avro" | "jsonschema" | "protobuf";

const SCRIPT = join(import.meta.dirname, "wire-decode.py");

export function pythonPath(): string {
  if (process.env.WHARF_PYTHON) return process.env.WHARF_PYTHON;
  return join(process.env.WHARF_TOOLS ?? join(homedir(), ".cache", "wharf"), "py", "bin", "python");
}

/** Sends one JSON line per request to wire-decode.py and returns its answer lines, in order. */
export function runWireScript(requests: object[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonPath(), [SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`wire-decode.py exited with ${code}: ${stderr.trim()}`));
      const answers = stdout
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      if (answers.length !== requests.length) {
        return reject(
          new Error(`wire-decode.py answered ${answers.length} of ${requests.length} lines: ${stderr.trim()}`),
        );
      }
      resolve(answers);
    });
    child.stdin.end(requests.map((r) => `${JSON.stringify(r)}\n`).join(""));
  });
}

function unwrap(answers: Record<string, unknown>[]): Record<string, unknown>[] {
  const failed = answers.findIndex((a) => typeof a.error === "string");
  if (failed >= 0) throw new Error(`wire-decode.py, value ${failed}: ${answers[failed]?.error}`);
  return answers;
}

/**
 * Decodes Kafka record values (magic byte, schema id, payload) with confluent_kafka's
 * deserializers. `topic` and `key` only name the subject the deserializers pass along; the
 * writer's schema is the one the id in the bytes names.
 */
export async function decodeWithPython(
  registryUrl: string,
  format: WireFormat,
  values: Buffer[],
  options: { topic?: string; key?: boolean } = {},
): Promise<Array<{ schema_id: number; value: unknown }>> {
  const answers = await runWireScript(
    values.map((value) => ({ registry: registryUrl, format, bytes: value.toString("base64"), ...options })),
  );
  return unwrap(answers).map((a) => ({ schema_id: a.schema_id as number, value: a.value }));
}

export type PythonEncodeRequest =
  | { format: "avro" | "jsonschema"; topic: string; schema: string; value: unknown }
  | { format: "protobuf"; topic: string; schemaId: number; message: string; value: unknown };

/**
 * Encodes values with confluent_kafka's AvroSerializer / JSONSerializer / ProtobufSerializer, which
 * register their schema under `<topic>-value` as an application's producer would.
 */
export async function encodeWithPython(
  registryUrl: string,
  requests: PythonEncodeRequest[],
): Promise<Array<{ bytes: Buffer; schema_id: number }>> {
  const answers = await runWireScript(
    requests.map((r) =>
      r.format === "protobuf"
        ? {
            op: "encode",
            registry: registryUrl,
            format: r.format,
            topic: r.topic,
            schema_id: r.schemaId,
            message: r.message,
            value: r.value,
          }
        : { op: "encode", registry: registryUrl, format: r.format, topic: r.topic, schema: r.schema, value: r.value },
    ),
  );
  return unwrap(answers).map((a) => ({
    bytes: Buffer.from(a.bytes as string, "base64"),
    schema_id: a.schema_id as number,
  }));
}
