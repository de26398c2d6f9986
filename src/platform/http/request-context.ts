import { Elysia } from "elysia";
import { enterLogContext, traceIdOf } from "../log-context.ts";

/** The ids that follow one request: its own, and the correlation id of the flow it belongs to. */
export type RequestIds = {
  requestId: string;
  /** Travels into every event this request causes (envelope `correlationId`). */
  correlationId: string;
};

export const REQUEST_ID_HEADER = "x-request-id";
export const CORRELATION_ID_HEADER = "x-correlation-id";
/** W3C trace context: its trace id goes into the request's log lines. */
export const TRACEPARENT_HEADER = "traceparent";

// Incoming ids end up in logs and events: accept only short, plain tokens so nobody can inject
// newlines, JSON or megabytes through a header.
const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The header value when it is a sane id (≤ 128 of [A-Za-z0-9._-]), else undefined. */
export function acceptId(value: string | null | undefined): string | undefined {
  return value != null && SANE_ID.test(value) ? value : undefined;
}

/** The ids of this request, as `requestContext` put them on the response headers when the request arrived. */
export function requestIdsOf(set: { headers: Record<string, unknown> }): RequestIds {
  return { requestId: String(set.headers[REQUEST_ID_HEADER]), correlationId: String(set.headers[CORRELATION_ID_HEADER]) };
}

/**
 * Takes `X-Request-Id` and `X-Correlation-Id` from the request (or generates a UUIDv7 request id, which is
 * then the correlation id too), puts them on the response headers as soon as the request arrives, and derives
 * `requestId` and `correlationId` into the context of the routes of the instance that `.use()`s it. The headers
 * are where every later hook of the request reads them (`requestIdsOf`): the error handler, also for a 404 that
 * matched no route, and the access log. The ids (and the trace id of a `traceparent` header) are also put in the
 * log context, so every line logged on behalf of the request carries them.
 *
 * Named: the root app and each module router apply it (a module so that its handlers are typed with both
 * ids), and Elysia keeps one copy of its hooks per request.
 */
export function requestContext() {
  return new Elysia({ name: "platform.request-context" })
    .onRequest(({ request, set }) => {
      const requestId = acceptId(request.headers.get(REQUEST_ID_HEADER)) ?? Bun.randomUUIDv7();
      set.headers[REQUEST_ID_HEADER] = requestId;
      const correlationId = acceptId(request.headers.get(CORRELATION_ID_HEADER)) ?? requestId;
      set.headers[CORRELATION_ID_HEADER] = correlationId;
      // Every line logged while this request is handled carries them (the module's own lines too).
      enterLogContext({ requestId, correlationId, traceId: traceIdOf(request.headers.get(TRACEPARENT_HEADER)) });
    })
    .derive({ as: "scoped" }, ({ set }) => requestIdsOf(set));
}
