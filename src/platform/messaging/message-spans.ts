import type { Attributes } from "@opentelemetry/api";
import { SpanAttributes } from "../tracing/spans.ts";
import type { Envelope } from "./envelope.ts";

/**
 * What every span about a message says: the module at work, the event, the message id, the correlation id, and the
 * order id when the event is about an order (its data has an `orderId`), so a trace viewer finds an order's spans.
 */
export function messageAttributes(module: string, envelope: Envelope): Attributes {
  const attributes: Attributes = {
    [SpanAttributes.module]: module,
    [SpanAttributes.event]: envelope.name,
    [SpanAttributes.messageId]: envelope.id,
    [SpanAttributes.correlationId]: envelope.correlationId,
  };
  const orderId = (envelope.data as { orderId?: unknown } | null)?.orderId;
  if (typeof orderId === "string") attributes[SpanAttributes.orderId] = orderId;
  return attributes;
}
