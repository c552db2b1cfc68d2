// The empty-request ceiling: GET /healthz at a constant rate (RATE, default 5000/s).

import { check } from "k6";
import http from "k6/http";
import { BASE_URL, openModel } from "./lib.js";

export const options = {
  scenarios: { healthz: openModel(Number(__ENV.RATE || 5000), 200) },
  thresholds: { http_req_failed: ["rate<0.001"] },
};

export default function () {
  const res = http.get(`${BASE_URL}/healthz`);
  check(res, { "status 200": (r) => r.status === 200 });
}
