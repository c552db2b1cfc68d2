/** Helpers shared by unit tests. */
import { RestError } from "./errors.ts";

/** The RestError `fn` throws; fails the test if it throws nothing or something else. */
export function thrownRestError(fn: () => unknown): RestError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RestError) return error;
    throw error;
  }
  throw new Error("expected a RestError");
}
