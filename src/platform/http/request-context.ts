import { Elysia } from "elysia";

/** The ids that follow one request: its own, and the correlation id of the flow it belongs to. */
export type RequestIds = {
  requestId: string;
  /** Travels into every event this request causes (envelope `correlationId`). */
  correlationId: string;
};

export const REQUEST_ID_HEADER = "x-request-id";
export const CORRELATION_ID_HEADER = "x-correlation-id";

// Incoming ids end up in logs and events: accept only short, plain tokens so nobody can inject
// newlines, JSON or megabytes through a header.
const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The header value when it is a sane id (≤ 128 of [A-Za-z0-9._-]), else undefined. */
export function acceptId(value: string | null | undefined): string | undefined {
  return value != null && SANE_ID.test(value) ? value : undefined;
}

// Keyed by the Request so every hook (onRequest, derive, onError, logging) of one request sees the
// same ids, even for a 404 that never reaches a derive, and even when several routers apply the plugin.
const idsByRequest = new WeakMap<Request, RequestIds>();

/** The ids of this request, taken from its headers or generated (UUIDv7) once and remembered. */
export function requestIds(request: Request): RequestIds {
  let ids = idsByRequest.get(request);
  if (!ids) {
    const requestId = acceptId(request.headers.get(REQUEST_ID_HEADER)) ?? Bun.randomUUIDv7();
    const correlationId = acceptId(request.headers.get(CORRELATION_ID_HEADER)) ?? requestId;
    ids = { requestId, correlationId };
    idsByRequest.set(request, ids);
  }
  return ids;
}

/**
 * Echoes `X-Request-Id` and `X-Correlation-Id` on every response and derives `requestId` and
 * `correlationId` into the context. Used by the root app; a module router `.use()`s it too so its
 * handlers are typed with both ids (the name makes Elysia apply it once).
 */
export function requestContext() {
  return new Elysia({ name: "platform.request-context" })
    .onRequest(({ request, set }) => {
      const ids = requestIds(request);
      set.headers[REQUEST_ID_HEADER] = ids.requestId;
      set.headers[CORRELATION_ID_HEADER] = ids.correlationId;
    })
    .derive({ as: "scoped" }, ({ request }) => requestIds(request));
}
