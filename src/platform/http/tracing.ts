import { SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH } from "@opentelemetry/semantic-conventions";
import { Elysia } from "elysia";
import { currentTraceId, inSpan, SpanAttributes, SpanKind } from "../tracing/spans.ts";
import { CORRELATION_ID_HEADER } from "./request-context.ts";

/** The response header that names the request's trace (32 hex digits), for a trace viewer's search. */
export const TRACE_ID_HEADER = "x-trace-id";
const TRACEPARENT_HEADER = "traceparent";

/**
 * Only while tracing is on (createHttpApp uses it then): every request is a SERVER span, named `METHOD /route/:template`
 * once the route is known, the child of the request's `traceparent` header when it has a valid one. The span is active
 * for the whole request (Elysia's `wrap` runs the app's fetch inside it), so the events a request writes are in its
 * trace. The response carries the trace id in `X-Trace-Id`.
 */
export function httpTracing() {
  return (
    new Elysia({ name: "platform.http-tracing" })
      // Elysia's hook around its whole fetch handler: the one place that sees every request from start to answer.
      .wrap(
        (fetch, request) =>
          ((...args: unknown[]) => serveInSpan(request as Request, () => (fetch as (...a: unknown[]) => unknown)(...args))) as never,
      )
      .onRequest(({ set }) => {
        const traceId = currentTraceId();
        if (traceId) set.headers[TRACE_ID_HEADER] = traceId;
        const correlationId = set.headers[CORRELATION_ID_HEADER];
        if (typeof correlationId === "string") trace.getActiveSpan()?.setAttribute(SpanAttributes.correlationId, correlationId);
      })
      .onTransform({ as: "global" }, ({ request, route }) => {
        const span = trace.getActiveSpan();
        span?.updateName(`${request.method} ${route}`);
        span?.setAttribute(ATTR_HTTP_ROUTE, route);
      })
  );
}

function serveInSpan(request: Request, handle: () => unknown): Promise<unknown> {
  const parent = request.headers.get(TRACEPARENT_HEADER) ?? undefined;
  const attributes = { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_URL_PATH]: new URL(request.url).pathname };
  return inSpan(request.method, { kind: SpanKind.SERVER, parent, attributes }, async (span) => {
    const response = await handle();
    if (span && response instanceof Response) recordStatus(span, response.status);
    return response;
  });
}

function recordStatus(span: Span, status: number): void {
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
}
