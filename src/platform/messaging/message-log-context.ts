import type { AMQPMessage } from "@cloudamqp/amqp-client";
import { traceIdOf, type LogContext } from "../log-context.ts";
import type { Envelope } from "./envelope.ts";

/**
 * What the log lines about one message carry: its correlation id, id and event, and the trace id of its
 * `traceparent` (the AMQP header, else the envelope's) when it has one. A message that is no valid envelope is known by its AMQP properties.
 */
export function messageLogContext(message: AMQPMessage | undefined, envelope?: Envelope): LogContext {
  const properties = message?.properties;
  return {
    correlationId: envelope?.correlationId ?? properties?.correlationId,
    traceId: traceIdOf(properties?.headers?.traceparent) ?? traceIdOf(envelope?.traceparent),
    messageId: envelope?.id ?? properties?.messageId,
    event: envelope?.name ?? properties?.type,
  };
}
