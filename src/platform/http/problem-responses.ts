import { withHeaders } from "@elysiajs/openapi";
import { t, type TSchema } from "elysia";
import { ProblemSchema } from "./problem.ts";

const RequestId = t.String({ description: "this request's id, also in the log lines and in a problem's `requestId`" });
const RetryAfter = t.String({ description: "seconds to wait before trying again" });

/** Every answer carries `X-Request-Id`; `extra` adds the headers of this one answer (e.g. `location`). */
export function answer<S extends TSchema>(schema: S, extra: Record<string, TSchema> = {}): S {
  return withHeaders(schema, { "x-request-id": RequestId, ...extra }) as S;
}

// The answers that say when to come back: 503 (the database is away) and 429 (over a rate limit).
const WITH_RETRY_AFTER = new Set([429, 503]);

/** A route's error answers for the given statuses, each a problem document (429 and 503 with `Retry-After`). */
export function problems<const Statuses extends readonly number[]>(...statuses: Statuses) {
  return Object.fromEntries(
    statuses.map((status) => [status, answer(ProblemSchema, WITH_RETRY_AFTER.has(status) ? { "retry-after": RetryAfter } : {})]),
  ) as { [K in Statuses[number]]: typeof ProblemSchema };
}
