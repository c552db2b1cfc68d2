// Forwarding cost: one consumer instance created through OWNER_URL, then GET .../assignments at a
// constant rate sent to OWNER_URL (tag via=owner) and to OTHER_URL (tag via=non-owner) in two
// scenarios one after the other; compare http_req_duration{via:...}. The Node harness finds the
// owner from /metrics; here the caller names two gateways and the summary says which answered.

import { check } from "k6";
import http from "k6/http";
import { DURATION, TOPIC, V2 } from "./lib.js";

const OWNER_URL = __ENV.OWNER_URL || "http://127.0.0.1:8082";
const OTHER_URL = __ENV.OTHER_URL || "http://127.0.0.1:8083";
const RATE = Number(__ENV.RATE || 500);
const json = { headers: { "content-type": V2, accept: V2 } };

const phase = (via, startTime) => ({
  executor: "constant-arrival-rate",
  rate: RATE,
  timeUnit: "1s",
  duration: DURATION,
  preAllocatedVUs: 20,
  maxVUs: 100,
  startTime,
  env: { VIA: via },
  tags: { via },
});

export const options = {
  scenarios: { owner: phase("owner", "0s"), nonOwner: phase("non-owner", DURATION) },
  thresholds: { "http_req_duration{via:owner}": ["p(99)<50"], "http_req_duration{via:non-owner}": ["p(99)<50"] },
};

export function setup() {
  const group = `k6-forwarding-${Date.now()}`;
  const res = http.post(`${OWNER_URL}/consumers/${group}`, JSON.stringify({ name: "reader", format: "binary" }), json);
  const path = `/consumers/${group}/instances/reader`;
  http.post(`${OWNER_URL}${path}/assignments`, JSON.stringify({ partitions: [{ topic: TOPIC, partition: 0 }] }), json);
  check(res, { "instance created": (r) => r.status === 200 });
  return { path };
}

export default function (data) {
  const url = __ENV.VIA === "owner" ? OWNER_URL : OTHER_URL;
  const res = http.get(`${url}${data.path}/assignments`, { headers: { accept: V2 } });
  check(res, { "status 200": (r) => r.status === 200 });
}

export function teardown(data) {
  http.del(`${OWNER_URL}${data.path}`, null, json);
}
