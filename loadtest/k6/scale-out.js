// 1 versus N gateways: run produce at a constant rate against one gateway (WHARF_URL) and then
// against haproxy (LB_URL) in a second scenario, tagged target=direct / target=lb. Raise RATE until
// the direct phase drops iterations; the lb phase shows whether more gateways carry more.

import { check } from "k6";
import http from "k6/http";
import { BASE_URL, DURATION, TOPIC, V2, V2_BINARY, v2ProduceBody } from "./lib.js";

const LB_URL = __ENV.LB_URL || "http://127.0.0.1:8080";
const RATE = Number(__ENV.RATE || 3000);
const RECORDS = Number(__ENV.RECORDS || 1);
const body = v2ProduceBody(RECORDS);
const params = { headers: { "content-type": V2_BINARY, accept: V2 } };

const phase = (target, startTime) => ({
  executor: "constant-arrival-rate",
  rate: RATE,
  timeUnit: "1s",
  duration: DURATION,
  preAllocatedVUs: 100,
  maxVUs: 500,
  startTime,
  env: { TARGET: target },
  tags: { target },
});

export const options = {
  scenarios: { direct: phase("direct", "0s"), lb: phase("lb", DURATION) },
  thresholds: { http_req_failed: ["rate<0.001"] },
};

export default function () {
  const url = __ENV.TARGET === "lb" ? LB_URL : BASE_URL;
  const res = http.post(`${url}/topics/${encodeURIComponent(TOPIC)}`, body, params);
  check(res, { "status 200": (r) => r.status === 200 });
}
