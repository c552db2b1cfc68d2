// v2 consume: each VU owns one binary consumer instance assigned to every partition of TOPIC
// (PARTITIONS, default 3) and polls GET .../records in a loop, as a REST Proxy client does.
// End-to-end latency: produce with keys holding Date.now() (e.g. produce-1.js is keyless, so use
// the Node harness for that); here records/s and poll latency are measured.

import { check } from "k6";
import http from "k6/http";
import { Counter } from "k6/metrics";
import { BASE_URL, DURATION, TOPIC, V2, V2_BINARY } from "./lib.js";

const recordsRead = new Counter("wharf_records_read");
const partitions = Number(__ENV.PARTITIONS || 3);
const json = { headers: { "content-type": V2, accept: V2 } };

export const options = {
  scenarios: { poll: { executor: "constant-vus", vus: Number(__ENV.VUS || 1), duration: DURATION } },
  thresholds: { http_req_failed: ["rate<0.001"] },
};

let instance = null;

function create() {
  const group = `k6-consume-${__VU}-${Date.now()}`;
  const res = http.post(
    `${BASE_URL}/consumers/${group}`,
    JSON.stringify({ name: "reader", format: "binary", "auto.offset.reset": "earliest" }),
    json,
  );
  const base = `${BASE_URL}/consumers/${group}/instances/reader`;
  const list = Array.from({ length: partitions }, (_, partition) => ({ topic: TOPIC, partition }));
  http.post(`${base}/assignments`, JSON.stringify({ partitions: list }), json);
  check(res, { "instance created": (r) => r.status === 200 });
  return base;
}

export default function () {
  instance = instance || create();
  const res = http.get(`${instance}/records?timeout=200&max_bytes=4194304`, { headers: { accept: V2_BINARY } });
  check(res, { "status 200": (r) => r.status === 200 });
  if (res.status === 200) recordsRead.add(res.json().length);
}

export function teardown() {
  // Instances expire by themselves after their idle timeout; nothing shared to clean up here.
}
