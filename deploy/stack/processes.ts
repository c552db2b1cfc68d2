import { execFile, spawn } from "node:child_process";
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { StackError } from "./errors.ts";

/**
 * A process the stack started. `startTime` (clock ticks since boot, from /proc) tells our process
 * apart from an unrelated one that got the same pid after ours died, so `down` never kills a stranger.
 */
export interface ProcessRef {
  pid: number;
  startTime: string | null;
}

export interface Spawned extends ProcessRef {
  /** How the child ended, as long as this Node process is the one that spawned it; else null. */
  exitStatus(): string | null;
}

export interface SpawnSpec {
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a child that outlives us: own process group, output appended to its log file, unref'd. */
export function spawnDetached(spec: SpawnSpec): Spawned {
  appendFileSync(spec.logFile, `--- ${new Date().toISOString()} ${spec.command} ${spec.args.join(" ")}\n`);
  const fd = openSync(spec.logFile, "a");
  let status: string | null = null;
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    child.once("error", (error) => {
      status = `failed to start: ${error.message}`;
    });
    child.once("exit", (code, signal) => {
      status = signal ? `killed by ${signal}` : `exited with code ${code}`;
    });
    child.unref();
    if (child.pid === undefined) {
      throw new StackError("STACK_MISSING_TOOL", `could not start ${spec.command}`);
    }
    const pid = child.pid;
    return { pid, startTime: readStartTime(pid), exitStatus: () => status };
  } finally {
    closeSync(fd);
  }
}

/** Runs a short command to completion and fails with its output when it does not exit 0. */
export function runCommand(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: env ?? process.env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const output = `${stdout}${stderr}`.trim();
        reject(
          new StackError(
            "STACK_COMMAND_FAILED",
            `${command} ${args.join(" ")} exited with ${error.signal ?? error.code}\n${output}`,
          ),
        );
      } else {
        resolve(stdout);
      }
    });
  });
}

export function isRunning(ref: ProcessRef): boolean {
  try {
    process.kill(ref.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = readStat(ref.pid);
  if (stat === null) return !existsSync("/proc/self/stat"); // without /proc, trust kill(0)
  // A zombie still answers kill(0); our init may never reap orphans, so treat it as gone.
  if (stat.state === "Z") return false;
  return ref.startTime === null || stat.startTime === ref.startTime;
}

/** Signals the child's whole process group (it leads one, being detached), falling back to the pid. */
export function sendSignal(ref: ProcessRef, signal: NodeJS.Signals): boolean {
  if (!isRunning(ref)) return false;
  try {
    process.kill(-ref.pid, signal);
  } catch {
    try {
      process.kill(ref.pid, signal);
    } catch {
      return false;
    }
  }
  return true;
}

export async function waitForExit(ref: ProcessRef, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(ref)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** SIGTERM, up to `graceMs` to exit, then SIGKILL. Resolves once the process is gone. */
export async function stopProcess(ref: ProcessRef, graceMs = 15_000): Promise<void> {
  if (!sendSignal(ref, "SIGTERM")) return;
  if (await waitForExit(ref, graceMs)) return;
  sendSignal(ref, "SIGKILL");
  await waitForExit(ref, 5_000);
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked before each probe: a reason to give up at once (e.g. the process exited). */
  failure?: () => string | null;
  /** Extra detail for the error (e.g. a log tail). */
  detail?: () => string;
}

export async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const failure = options.failure?.();
    if (failure) {
      throw new StackError("STACK_PROCESS_EXITED", `${what}: ${failure}${formatDetail(options.detail)}`);
    }
    if (await probe()) return;
    if (Date.now() >= deadline) {
      throw new StackError(
        "STACK_START_TIMEOUT",
        `${what}: not ready after ${Math.round(options.timeoutMs / 1000)} s${formatDetail(options.detail)}`,
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
}

function formatDetail(detail: (() => string) | undefined): string {
  const text = detail?.().trim();
  return text ? `\n${text}` : "";
}

/** The last lines of a log file, for error messages; empty when there is no such file. */
export function tailFile(file: string, lines = 30): string {
  try {
    const all = readFileSync(file, "utf8").trimEnd().split("\n");
    return `--- last ${Math.min(lines, all.length)} lines of ${file}\n${all.slice(-lines).join("\n")}`;
  } catch {
    return "";
  }
}

function readStartTime(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

function readStat(pid: number): { state: string; startTime: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", startTime: fields[19] ?? "" };
}
