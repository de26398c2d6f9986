import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";

/**
 * Spans of the shop, made through the OpenTelemetry API only. Until `startTracing` (./setup.ts) has set up the SDK
 * — only when OTEL_EXPORTER_OTLP_ENDPOINT is set — every function here returns at its first line: no span, no
 * context, no allocation on the hot path.
 */

/** Span attribute names the shop sets on its spans. */
export const SpanAttributes = {
  module: "shop.module",
  event: "shop.event.name",
  messageId: "messaging.message.id",
  orderId: "shop.order.id",
  correlationId: "shop.correlation_id",
} as const;

/** A W3C trace context `traceparent` value (version 00 and later), as the envelope and the AMQP headers carry it. */
export const TRACEPARENT_PATTERN = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$";

let tracer: Tracer | undefined;

/** Called by setup.ts: spans are made from now on (a tracer), or no more (undefined). */
export function useTracer(next: Tracer | undefined): void {
  tracer = next;
}

export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

/** The trace id (32 hex digits) of the span active here, or undefined when there is none or tracing is off. */
export function currentTraceId(): string | undefined {
  if (!tracer) return undefined;
  const active = trace.getActiveSpan()?.spanContext();
  return active && isSpanContextValid(active) ? active.traceId : undefined;
}

/** The `traceparent` of the span active here, or undefined when there is none or tracing is off. */
export function currentTraceparent(): string | undefined {
  if (!tracer) return undefined;
  return traceparentOf(trace.getActiveSpan());
}

/** A span's context as a W3C `traceparent` value. */
export function traceparentOf(span: Span | undefined): string | undefined {
  const ctx = span?.spanContext();
  if (!ctx || !isSpanContextValid(ctx)) return undefined;
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** The context a `traceparent` names (the root context for none or an invalid one). */
function contextOf(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent: a `traceparent` (a new trace when undefined), or `"active"` for the span active here. */
  parent: string | undefined | "active";
}

/** Starts a span (not made active); undefined when tracing is off. End it with `endSpan`. */
export function startSpan(name: string, options: SpanOptions): Span | undefined {
  if (!tracer) return undefined;
  const parent = options.parent === "active" ? context.active() : contextOf(options.parent);
  return tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent);
}

/** Ends a span, as failed when `error` is given. */
export function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Runs `work` in a span that is active inside it (so spans and envelopes made there are its children). */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  const span = startSpan(name, options);
  // Off: `work` itself, not even a promise around it.
  if (!span) return work(undefined);
  return runInSpan(span, work);
}

async function runInSpan<T>(span: Span, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  try {
    const result = await context.with(trace.setSpan(context.active(), span), () => work(span));
    endSpan(span);
    return result;
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
}

/** Runs `work` with the context a `traceparent` names as the active one (a no-op when tracing is off). */
export function withTraceparent<T>(traceparent: string | undefined, work: () => T): T {
  if (!tracer || !traceparent) return work();
  return context.with(contextOf(traceparent), work);
}

export { SpanKind };
