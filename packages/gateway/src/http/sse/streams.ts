/**
 * The event streams one node serves: admission (stream.max.open), one stream per consumer
 * instance, the slow-reader watchdog, the stream gauges, and ending them all on shutdown.
 */
import { serviceUnavailable, tooManyRequests } from "../../errors.ts";
import type { Metrics } from "../../metrics.ts";
import type { EventStream, StreamSettings, StreamTracker } from "./event-stream.ts";

export interface StreamRegistry extends StreamTracker {
  /** Refuses a new stream (429) when this node already serves stream.max.open of them. */
  admit(): void;
  readonly size: number;
  /** Ends every stream (clients reconnect elsewhere) and waits until their sources are closed. */
  closeAll(): Promise<void>;
}

export function createStreamRegistry(settings: StreamSettings, metrics: Metrics): StreamRegistry {
  const open = new Set<EventStream>();
  const exclusive = new Map<string, EventStream>();
  const keys = new Map<EventStream, string>();
  let sweeper: NodeJS.Timeout | null = null;
  let closing = false;

  const count = () => {
    let topic = 0;
    for (const s of open) if (s.kind === "topic") topic++;
    metrics.sseStreams.set({ kind: "topic" }, topic);
    metrics.sseStreams.set({ kind: "consumer" }, open.size - topic);
  };

  const sweep = () => {
    const now = Date.now();
    let buffered = 0;
    for (const s of open) {
      if (s.blockedFor(now) > settings.slowReaderTimeoutMs) s.dropSlowReader();
      buffered += s.bufferedBytes();
    }
    metrics.sseBufferedBytes.set(buffered);
  };

  // The watchdog runs only while there are streams, so an idle gateway holds no timer.
  const watch = () => {
    if (sweeper || open.size === 0) return;
    sweeper = setInterval(sweep, Math.max(100, Math.min(1000, settings.slowReaderTimeoutMs / 4)));
    sweeper.unref();
  };
  const unwatch = () => {
    if (!sweeper || open.size > 0) return;
    clearInterval(sweeper);
    sweeper = null;
    metrics.sseBufferedBytes.set(0);
  };

  return {
    get size() {
      return open.size;
    },
    admit() {
      if (closing) throw serviceUnavailable("This node is shutting down; retry.");
      if (open.size >= settings.maxOpen) {
        throw tooManyRequests("This node serves as many event streams as it may; retry.", 1);
      }
    },
    add(stream, exclusiveKey) {
      open.add(stream);
      if (exclusiveKey !== undefined) {
        const previous = exclusive.get(exclusiveKey);
        exclusive.set(exclusiveKey, stream);
        keys.set(stream, exclusiveKey);
        void previous?.replace();
      }
      count();
      watch();
    },
    remove(stream) {
      if (!open.delete(stream)) return;
      const key = keys.get(stream);
      keys.delete(stream);
      if (key !== undefined && exclusive.get(key) === stream) exclusive.delete(key);
      count();
      unwatch();
    },
    async closeAll() {
      closing = true;
      await Promise.all([...open].map((s) => s.shutdown()));
      unwatch();
    },
  };
}
