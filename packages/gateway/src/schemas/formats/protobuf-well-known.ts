/**
 * The special JSON forms protobuf's JsonFormat gives some well-known types: Timestamp as an RFC
 * 3339 string, Duration as "1.5s", and the wrappers (Int32Value, StringValue...) as their bare
 * value. Each converts between that JSON and the message's plain object form for protobufjs.
 */
import { ConversionError } from "./codec.ts";

const WRAPPERS = new Set(
  ["Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes"].map(
    (t) => `.google.protobuf.${t}Value`,
  ),
);
const TIMESTAMP = ".google.protobuf.Timestamp";
const DURATION = ".google.protobuf.Duration";

const rfc3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;
const duration = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

export const hasJsonForm = (fullName: string) =>
  fullName === TIMESTAMP || fullName === DURATION || WRAPPERS.has(fullName);

/** A well-known type's JSON as its message object; `inner` checks a wrapper's value as its `value` field. */
export function wellKnownFromJson(fullName: string, value: unknown, where: string, inner: (v: unknown) => unknown) {
  if (WRAPPERS.has(fullName)) return { value: inner(value) };
  if (typeof value !== "string") throw new ConversionError(`Expect a ${fullName.slice(17)} string for ${where}`);
  if (fullName === TIMESTAMP) {
    const m = rfc3339.exec(value);
    const ms = m ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
    if (!m || !Number.isFinite(ms)) throw new ConversionError(`Failed to parse timestamp ${value} for ${where}`);
    return { seconds: String(Math.floor(ms / 1000)), nanos: Number((m[2] ?? "").padEnd(9, "0")) };
  }
  const m = duration.exec(value);
  if (!m) throw new ConversionError(`Failed to parse duration ${value} for ${where}`);
  const sign = m[1] ? -1 : 1;
  return { seconds: `${m[1] ?? ""}${m[2]}`, nanos: sign * Number((m[3] ?? "").padEnd(9, "0")) };
}

/** A well-known type's message object (protobufjs's toObject, longs as strings) as JsonFormat prints it. */
export function wellKnownToJson(fullName: string, object: Record<string, unknown>): unknown {
  if (WRAPPERS.has(fullName)) return object.value;
  const seconds = Number(object.seconds ?? 0);
  const nanos = Number(object.nanos ?? 0);
  // JsonFormat prints 0, 3, 6 or 9 fraction digits.
  const fraction = (n: number) => {
    if (n === 0) return "";
    const digits = String(Math.abs(n)).padStart(9, "0");
    return `.${digits.endsWith("000000") ? digits.slice(0, 3) : digits.endsWith("000") ? digits.slice(0, 6) : digits}`;
  };
  if (fullName === TIMESTAMP) {
    return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `${fraction(nanos)}Z`);
  }
  const negative = seconds < 0 || nanos < 0;
  return `${negative ? "-" : ""}${Math.abs(seconds)}${fraction(nanos)}s`;
}
