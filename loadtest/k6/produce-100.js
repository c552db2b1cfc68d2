// v2 produce, 100 record(s) of 1 KiB per request, at a constant rate (RATE requests/s, default 200).
// Run it at 50% and 90% of the saturation the Node harness measured (see ../README.md).

import { check } from "k6";
import http from "k6/http";
import { BASE_URL, openModel, TOPIC, V2, V2_BINARY, v2ProduceBody } from "./lib.js";

const body = v2ProduceBody(100);
const params = { headers: { "content-type": V2_BINARY, accept: V2 } };

export const options = {
  scenarios: { produce: openModel(Number(__ENV.RATE || 200), 500) },
  thresholds: { http_req_failed: ["rate<0.001"], "http_req_duration{expected_response:true}": ["p(99)<250"] },
};

export default function () {
  const res = http.post(`${BASE_URL}/topics/${encodeURIComponent(TOPIC)}`, body, params);
  check(res, {
    "status 200": (r) => r.status === 200,
    "no record error": (r) => !r.body.includes('"error":"'),
  });
}
