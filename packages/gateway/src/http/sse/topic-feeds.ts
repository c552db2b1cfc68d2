/**
 * The topic feeds one node runs, and the consumers of the topic streams that read on their own.
 * A feed exists per (topic, partitions, format) while some stream reads from it: live streams
 * (from=latest, no Last-Event-ID) all share it; a stream that starts elsewhere (earliest, a time,
 * a resume) gets its own consumer and joins the feed if it reaches the feed's position.
 * One owner for all of them, so shutdown closes every consumer and the gauge counts them.
 */
import { serviceUnavailable } from "../../errors.ts";
import type { StartPosition, TopicStreamOptions } from "../../kafka/topic-stream.ts";
import type { Metrics } from "../../metrics.ts";
import type { Schemas } from "../../schemas/index.ts";
import { Cursor } from "./cursor.ts";
import type { StreamSettings } from "./event-stream.ts";
import type { StreamFormat } from "./record-event.ts";
import { type Subscription, TopicFeed } from "./topic-feed.ts";
import { type FeedHost, type TopicReader, TopicStreamSource } from "./topic-source.ts";

export interface TopicStreamRequest {
  topic: string;
  /** Sorted, no repeats. */
  partitions: number[];
  from: StartPosition;
  /** Next offset per partition from the Last-Event-ID; these partitions ignore `from`. */
  resume: Map<number, number>;
  format: StreamFormat;
}

export interface TopicFeeds {
  /** A source for one new stream; throws (503...) when Kafka cannot be read. */
  open(request: TopicStreamRequest): Promise<TopicStreamSource>;
  /** Feeds running now. */
  readonly feeds: number;
  /** Consumers open now, shared and own. */
  readonly consumers: number;
  /** Closes every feed and own consumer, refusing new ones; for shutdown, after the streams ended. */
  close(): Promise<void>;
}

export interface TopicFeedsDeps {
  nodeId: string;
  settings: StreamSettings;
  metrics: Metrics;
  schemas?: Schemas | null;
  /** Opens a consumer: TopicStream.open with the gateway's config, or a fake in unit tests. */
  openReader(options: TopicStreamOptions): Promise<TopicReader>;
}

/**
 * What one shared subscriber may have waiting. The chunks are shared, so this is not memory per
 * subscriber; it bounds how long the feed keeps chunks alive for the slowest one.
 */
const SUBSCRIBER_BATCHES = 4;

/**
 * How far behind the end (records, over all partitions) a stream on its own consumer may be to
 * turn that consumer into the feed, when there is none: live streams that join start that much
 * in the past, for the moment it takes the feed to read it.
 */
const PROMOTE_SLACK = 100;

async function nearEnd(reader: TopicReader, start: Map<number, number>): Promise<boolean> {
  try {
    const ends = await reader.ends();
    let behind = 0;
    for (const [partition, offset] of start) behind += Math.max(0, (ends.get(partition) ?? offset) - offset);
    return behind <= PROMOTE_SLACK;
  } catch {
    return false;
  }
}

export function createTopicFeeds({
  nodeId,
  settings,
  metrics,
  schemas = null,
  openReader,
}: TopicFeedsDeps): TopicFeeds {
  const feeds = new Map<string, Promise<TopicFeed>>();
  const running = new Map<string, TopicFeed>();
  const own = new Set<TopicReader>();
  let seq = 0;
  let closing = false;

  const count = () => {
    metrics.sseTopicConsumers.set({ kind: "shared" }, running.size);
    metrics.sseTopicConsumers.set({ kind: "own" }, own.size);
  };

  const keyOf = (r: { topic: string; partitions: number[]; format: StreamFormat }) =>
    `${r.topic}\u0000${r.partitions.join(",")}\u0000${r.format}`;

  async function openOwnReader(request: TopicStreamRequest): Promise<TopicReader> {
    if (closing) throw serviceUnavailable("This node is shutting down; retry.");
    const reader = await openReader({
      topic: request.topic,
      partitions: request.partitions,
      from: request.from,
      resume: request.resume,
      clientId: `wharf-${nodeId}-stream-${++seq}`,
    });
    own.add(reader);
    count();
    if (closing) {
      await closeOwn(reader);
      throw serviceUnavailable("This node is shutting down; retry.");
    }
    return reader;
  }

  async function closeOwn(reader: TopicReader): Promise<void> {
    if (!own.delete(reader)) return;
    count();
    await reader.close();
  }

  /** Opens a feed at the end of the log. */
  async function openFeed(key: string, request: TopicStreamRequest): Promise<TopicFeed> {
    const reader = await openReader({
      topic: request.topic,
      partitions: request.partitions,
      from: { kind: "latest" },
      resume: new Map(),
      clientId: `wharf-${nodeId}-feed-${++seq}`,
    });
    if (closing) {
      await reader.close();
      throw serviceUnavailable("This node is shutting down; retry.");
    }
    return startFeed(key, request, reader);
  }

  /** A feed reading from `reader`, from `start` (by default where the reader started). */
  function startFeed(
    key: string,
    request: TopicStreamRequest,
    reader: TopicReader,
    start?: ReadonlyMap<number, number>,
  ): TopicFeed {
    const feed = new TopicFeed(reader, {
      topic: request.topic,
      format: request.format,
      schemas,
      chunkMaxBytes: settings.batchMaxBytes,
      subscriberMaxBytes: SUBSCRIBER_BATCHES * settings.batchMaxBytes,
      ...(start ? { start } : {}),
      // While a feed runs, the key's entry in `feeds` is its own (a new one opens only without).
      onClosed: () => {
        if (running.get(key) !== feed) return;
        running.delete(key);
        feeds.delete(key);
        count();
      },
    });
    running.set(key, feed);
    count();
    return feed;
  }

  /** Registers an opening feed as the key's entry; a failed one is forgotten. */
  function track(key: string, opening: Promise<TopicFeed>): Promise<TopicFeed> {
    feeds.set(key, opening);
    opening.catch(() => {
      if (feeds.get(key) === opening) feeds.delete(key);
    });
    return opening;
  }

  /** A subscription to the key's feed, opening it when there is none. */
  async function subscribe(key: string, request: TopicStreamRequest): Promise<Subscription> {
    for (;;) {
      if (closing) throw serviceUnavailable("This node is shutting down; retry.");
      const pending = feeds.get(key) ?? track(key, openFeed(key, request));
      const feed = await pending;
      const subscription = feed.subscribe();
      if (subscription) return subscription;
      // It closed between opening and now (its last stream left, or it failed): open anew.
      if (feeds.get(key) === pending) feeds.delete(key);
    }
  }

  function hostFor(request: TopicStreamRequest): FeedHost {
    const key = keyOf(request);
    return {
      openOwn: (resume) => openOwnReader({ ...request, resume }),
      closeOwn,
      rejoin: (cursor: Cursor) => {
        const feed = running.get(key);
        return feed && !feed.closed && feed.isAt(cursor) ? feed.subscribe() : null;
      },
      async promote(reader, cursor) {
        const free = () => !closing && !feeds.has(key) && own.has(reader);
        if (!free()) return null;
        const at = new Map(cursor.positions().map((p) => [p.partition, p.offset]));
        if (!(await nearEnd(reader, at)) || !free()) return null;
        // The reader still holds what it took past the cursor: the feed publishes that first.
        own.delete(reader);
        const feed = startFeed(key, request, reader, at);
        feeds.set(key, Promise.resolve(feed));
        return feed.subscribe();
      },
    };
  }

  return {
    get feeds() {
      return running.size;
    },
    get consumers() {
      return running.size + own.size;
    },
    async open(request) {
      const host = hostFor(request);
      const { topic, format } = request;
      if (request.resume.size === 0 && request.from.kind === "latest") {
        return TopicStreamSource.shared(topic, await subscribe(keyOf(request), request), host, format, schemas);
      }
      if (request.resume.size === request.partitions.length) {
        // A reconnect at the feed's position joins it at once.
        const cursor = new Cursor();
        for (const [partition, offset] of request.resume) cursor.set(topic, partition, offset);
        const subscription = host.rejoin(cursor);
        if (subscription) return TopicStreamSource.shared(topic, subscription, host, format, schemas);
      }
      const reader = await openOwnReader(request);
      const cursor = new Cursor();
      // Every partition is in the cursor from the first event, at the offset it started at.
      for (const [partition, offset] of reader.start) cursor.set(topic, partition, offset);
      return TopicStreamSource.own(topic, reader, cursor, host, format, schemas);
    },
    async close() {
      closing = true;
      await Promise.all([...running.values()].map((feed) => feed.close()));
      await Promise.all([...own].map((reader) => closeOwn(reader)));
      // Feeds still opening close themselves when they see `closing`.
      await Promise.allSettled([...feeds.values()]);
    },
  };
}
