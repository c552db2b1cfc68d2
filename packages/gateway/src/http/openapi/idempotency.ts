/** How produce operations document the Idempotency-Key header (src/http/idempotency). */
import { enumOf, type Parameter, type Response, string } from "./builders.ts";

export const idempotencyKey: Parameter = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    'An sf-string naming this request, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324" (quotes included, at most ' +
    "255 printable ASCII characters). A repeat with the same key and the same method, path, Content-Type " +
    "and body within idempotency.ttl.ms, on any node, gets the first answer again (Idempotent-Replayed: " +
    "true) and writes nothing. The same key for another request: 422 / 42209. A repeat while the first " +
    "is in flight waits up to idempotency.wait.ms, then 409 / 40904. Retriable answers (5xx, 429, or " +
    "every record failed with 50003) are not kept. Invalid key: 400 / 40003; store unreachable: 503. " +
    "Keys are scoped per authenticated principal.",
  schema: string(),
};

/** The marker on a replayed answer. */
export const replayHeaders: Response["headers"] = {
  "Idempotent-Replayed": {
    description: "Present (true) when this is the stored first answer to a request with the same Idempotency-Key.",
    schema: enumOf(["true"]),
  },
};

/** Adds the marker to an operation's success response. */
export const withReplayHeader = (response: Response): Response => ({ ...response, headers: replayHeaders });
