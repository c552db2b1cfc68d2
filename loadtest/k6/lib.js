// Shared by the k6 scripts: settings from the environment and pre-encoded request bodies.
// k6 has no Node APIs: base64 comes from k6/encoding.
import encoding from "k6/encoding";

export const BASE_URL = __ENV.WHARF_URL || "http://127.0.0.1:8082";
export const TOPIC = __ENV.WHARF_TOPIC || "wharf-bench";
export const DURATION = __ENV.WHARF_DURATION || "30s";
export const VALUE_BYTES = Number(__ENV.WHARF_VALUE_BYTES || 1024);

/**
 * A value of VALUE_BYTES bytes, base64 encoded once per VU. Printable ASCII only: k6 encodes a
 * string's UTF-8 bytes, and characters above 127 would make the value longer than asked.
 */
export function valueBase64() {
  let raw = "";
  for (let i = 0; i < VALUE_BYTES; i++) raw += String.fromCharCode(33 + ((i * 7919) % 94));
  return encoding.b64encode(raw, "std");
}

export function v2ProduceBody(count) {
  const record = JSON.stringify({ value: valueBase64() });
  return `{"records":[${new Array(count).fill(record).join(",")}]}`;
}

/**
 * An open model: RATE iterations per second whatever the latency (k6 records a dropped iteration
 * when no VU is free, the counterpart of the Node harness's "shed").
 */
export function openModel(rate, maxVUs) {
  return {
    executor: "constant-arrival-rate",
    rate,
    timeUnit: "1s",
    duration: DURATION,
    preAllocatedVUs: Math.min(maxVUs, 50),
    maxVUs,
  };
}

export const V2_BINARY = "application/vnd.kafka.binary.v2+json";
export const V2 = "application/vnd.kafka.v2+json";
