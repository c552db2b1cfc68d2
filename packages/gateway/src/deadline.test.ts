import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DeadlineExceededError, withDeadline } from "./deadline.ts";

const marker = join(mkdtempSync(join(tmpdir(), "wharf-deadline-")), "replied");

/**
 * Blocks the event loop, as a GC pause or a starved process does, for at least `ms` and until the
 * peer says it has written its reply (on a busy machine it may need longer than `ms` to run).
 */
function stallUntilReplied(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until || !existsSync(marker)) {
    // busy
  }
}

// The peer is another process, as Redis is: its reply reaches our socket while we are stalled.
const PEER = `
const net = require("node:net");
const silent = process.argv[1] === "silent";
const server = net.createServer((socket) => {
  socket.on("error", () => {});
  socket.on("data", (data) => {
    if (silent) return;
    socket.write("reply:" + data);
    require("node:fs").writeFileSync(process.argv[2], "");
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
`;

let child: ChildProcess | undefined;
let client: Socket | undefined;
afterEach(() => {
  client?.destroy();
  child?.kill();
  child = client = undefined;
  rmSync(marker, { force: true });
});

/** A real peer on loopback that answers each write at once, or never when silent. */
async function peer(silent = false): Promise<(line: string) => Promise<string>> {
  const proc = spawn(process.execPath, ["-e", PEER, silent ? "silent" : "talk", marker], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  child = proc;
  const [first] = (await once(proc.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  const socket = connect(Number(String(first).trim()), "127.0.0.1");
  client = socket;
  await once(socket, "connect");
  return (line) =>
    new Promise((resolve) => {
      socket.once("data", (data) => resolve(String(data)));
      socket.write(line);
    });
}

/** What a bare timer does: whichever of reply and timeout the loop runs first wins. */
function bareTimeout<T>(operation: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    operation,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out")), ms)),
  ]);
}

describe("withDeadline", () => {
  it("takes a reply that arrived while the event loop was stalled past the deadline", async () => {
    const ask = await peer();
    const pending = withDeadline(ask("a"), 50, "peer call");
    stallUntilReplied(300);
    await expect(pending).resolves.toBe("reply:a");
  });

  it("is what a bare timer gets wrong in the same situation", async () => {
    const ask = await peer();
    const pending = bareTimeout(ask("b"), 50);
    stallUntilReplied(300);
    await expect(pending).rejects.toThrow("timed out");
  });

  it("rejects with a coded error when no reply comes", async () => {
    const ask = await peer(true);
    const error = await withDeadline(ask("c"), 50, "peer call").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ code: "WHARF_DEADLINE_EXCEEDED", message: "peer call timed out after 50 ms" });
  });

  it("passes the call's own failure through", async () => {
    await expect(withDeadline(Promise.reject(new Error("refused")), 50, "x")).rejects.toThrow("refused");
  });
});
