import { connect } from "node:net";

export interface ClusterView {
  brokerIds: number[];
  controllerId: number;
}

const METADATA_API_KEY = 3;
// v8 is the newest version without tagged fields (simple to encode by hand) and is still served
// by Kafka 4.x, which dropped only v0-v3.
const METADATA_VERSION = 8;
const CLIENT_ID = "wharf-stack";

/**
 * Asks one broker for the brokers it currently sees as alive, with a bare Metadata request: a KRaft
 * broker lists only registered, unfenced brokers, so "every broker sees all N" means the cluster can
 * create fully replicated topics. Resolves null on any failure (not listening yet, closed, timeout).
 */
export function probeCluster(port: number, host: string, timeoutMs = 2000): Promise<ClusterView | null> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let received = Buffer.alloc(0);
    const finish = (view: ClusterView | null) => {
      socket.destroy();
      resolve(view);
    };
    socket.setTimeout(timeoutMs, () => finish(null));
    socket.once("error", () => finish(null));
    socket.once("close", () => finish(null));
    socket.once("connect", () => socket.write(metadataRequest()));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      try {
        finish(parseMetadataResponse(received.subarray(4, 4 + received.readInt32BE(0))));
      } catch {
        finish(null);
      }
    });
  });
}

function metadataRequest(): Buffer {
  const clientId = Buffer.from(CLIENT_ID);
  const header = Buffer.alloc(10);
  header.writeInt16BE(METADATA_API_KEY, 0);
  header.writeInt16BE(METADATA_VERSION, 2);
  header.writeInt32BE(1, 4); // correlation id
  header.writeInt16BE(clientId.length, 8);
  // topics: empty array (not null, which would mean all topics); then three false booleans:
  // allow_auto_topic_creation, include_cluster_authorized_operations, include_topic_authorized_operations.
  const body = Buffer.from([0, 0, 0, 0, 0, 0, 0]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + clientId.length + body.length, 0);
  return Buffer.concat([size, header, clientId, body]);
}

function parseMetadataResponse(frame: Buffer): ClusterView {
  let at = 8; // correlation id, throttle_time_ms
  const brokerCount = frame.readInt32BE(at);
  at += 4;
  const brokerIds: number[] = [];
  for (let i = 0; i < brokerCount; i++) {
    brokerIds.push(frame.readInt32BE(at));
    at += 4;
    at += 2 + frame.readInt16BE(at); // host
    at += 4; // port
    const rackLength = frame.readInt16BE(at);
    at += 2 + Math.max(rackLength, 0);
  }
  const clusterIdLength = frame.readInt16BE(at);
  at += 2 + Math.max(clusterIdLength, 0);
  return { brokerIds, controllerId: frame.readInt32BE(at) };
}
