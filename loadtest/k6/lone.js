// The lone request: one client sending v2 produce requests of 1 record of 1 KiB one after another
// (each when the previous answered), for WHARF_DURATION (default 30s). What a client sending one record
// at a time feels; compare its p50/p99 with a plain producer's one-record loop (see ../README.md).

import { check } from "k6";
import http from "k6/http";
import { BASE_URL, DURATION, TOPIC, V2, V2_BINARY, v2ProduceBody } from "./lib.js";

const body = v2ProduceBody(1);
const params = { headers: { "content-type": V2_BINARY, accept: V2 } };

export const options = {
  scenarios: { lone: { executor: "constant-vus", vus: 1, duration: DURATION } },
  thresholds: { http_req_failed: ["rate<0.001"] },
};

export default function () {
  const res = http.post(`${BASE_URL}/topics/${encodeURIComponent(TOPIC)}`, body, params);
  check(res, {
    "status 200": (r) => r.status === 200,
    "no record error": (r) => !r.body.includes('"error":"'),
  });
}
