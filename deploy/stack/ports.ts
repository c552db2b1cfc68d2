import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { StackError } from "./errors.ts";

export const HOST = "127.0.0.1";

/** Hands out loopback ports that are free right now and never the same one twice. */
export interface PortAllocator {
  /** A free port; `preferred` is checked and returned as is, or fails with STACK_PORT_IN_USE. */
  take(what: string, preferred?: number): Promise<number>;
}

export function createPortAllocator(): PortAllocator {
  const taken = new Set<number>();
  const [low, high] = pickRange();
  return {
    async take(what, preferred) {
      if (preferred !== undefined && preferred !== 0) {
        if (taken.has(preferred) || !(await canBind(preferred))) {
          throw new StackError("STACK_PORT_IN_USE", `${what}: port ${preferred} is already in use`);
        }
        taken.add(preferred);
        return preferred;
      }
      for (let attempt = 0; attempt < 200; attempt++) {
        const port = low + Math.floor(Math.random() * (high - low));
        if (!taken.has(port) && (await canBind(port))) {
          taken.add(port);
          return port;
        }
      }
      throw new StackError("STACK_PORT_IN_USE", `${what}: found no free port in ${low}-${high}`);
    },
  };
}

/**
 * Ports below the kernel's ephemeral range. bind(0) would hand out an ephemeral port, and while
 * the brokers start in parallel their outgoing connections draw local ports from that same range:
 * one of them could sit on a port we picked for a listener that is not bound yet.
 */
function pickRange(): [number, number] {
  let ephemeralLow = 32768;
  try {
    const first = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0];
    ephemeralLow = Number(first) || ephemeralLow;
  } catch {
    // Not Linux: keep the IANA/Linux default.
  }
  return ephemeralLow > 12000 ? [10000, ephemeralLow] : [ephemeralLow, 65535];
}

export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export function canConnect(port: number, host = HOST, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
