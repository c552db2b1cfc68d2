// v3 produce with many concatenated records in one request body (RECORDS per request, default
// 1000). k6 sends a body all at once, so unlike the Node harness this does not keep one request
// open while records trickle in; per-record latency is not visible, records/s is.

import { check } from "k6";
import http from "k6/http";
import { BASE_URL, openModel, TOPIC, valueBase64 } from "./lib.js";

const records = Number(__ENV.RECORDS || 1000);
const record = JSON.stringify({ value: { type: "BINARY", data: valueBase64() } });
const body = new Array(records).fill(record).join("");

export const options = {
  scenarios: { stream: openModel(Number(__ENV.RATE || 5), 50) },
  thresholds: { http_req_failed: ["rate<0.001"] },
};

export function setup() {
  const res = http.get(`${BASE_URL}/v3/clusters`, { headers: { accept: "application/json" } });
  return { cluster: res.json("data.0.cluster_id") };
}

export default function (data) {
  const path = `/v3/clusters/${data.cluster}/topics/${encodeURIComponent(TOPIC)}/records`;
  const res = http.post(`${BASE_URL}${path}`, body, { headers: { "content-type": "application/json" } });
  const reports = res.body ? res.body.split("\r\n").filter((l) => l.length > 0) : [];
  check(res, {
    "status 200": (r) => r.status === 200,
    "one report per record": () => reports.length === records,
    "every record delivered": () => reports.every((l) => l.includes('"error_code":200')),
  });
}
