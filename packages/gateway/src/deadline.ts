/**
 * Deadlines for calls to other processes (Redis) that do not blame the call for time this
 * process spent stalled.
 *
 * A bare timer misfires after an event-loop stall (a GC pause, a busy machine: 1.8 s stalls were
 * measured in the test worker under load): when the loop wakes, Node runs the timers phase before
 * the poll phase, so a timeout fires even though the reply has been sitting in the socket all
 * along. ioredis's `commandTimeout` is such a timer; it turned healthy Redis calls into 503s.
 * Here the timer only arms a check that runs in the check phase (setImmediate), after the poll
 * phase has delivered whatever arrived meanwhile, and the call still wins if its reply was there.
 */

/** A call that did not settle within its deadline. */
export class DeadlineExceededError extends Error {
  readonly code = "WHARF_DEADLINE_EXCEEDED";

  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = "DeadlineExceededError";
  }
}

export function withDeadline<T>(operation: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new DeadlineExceededError(what, ms));
      });
    }, ms);
    operation.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
