/** Path and query parameter parsing shared by routes. */
import { partitionNotFound, RestError } from "../errors.ts";

/** A partition id from the path; anything but a non-negative integer names no partition. */
export function parsePartition(raw: string | undefined): number {
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) throw partitionNotFound();
  return Number(raw);
}

export function parseIntegerQuery(raw: string | undefined, name: string, min: number, max: number): number | null {
  if (raw === undefined || raw === "") return null;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RestError(400, 400, `Query parameter ${name} must be an integer between ${min} and ${max}.`);
  }
  return value;
}
