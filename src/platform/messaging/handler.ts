import type { Transaction } from "../db.ts";
import { currentLogContext, withLogContext } from "../log-context.ts";
import type { Envelope } from "./envelope.ts";
import type { EventData, EventDefinition } from "./event.ts";

export interface HandlerContext {
  /** The transaction that also records the message in the inbox: commit = applied exactly once. */
  tx: Transaction;
  envelope: Envelope;
  /** Adds an event to this module's outbox in the same transaction (correlation carried on). */
  emit<E extends EventDefinition>(event: E, data: EventData<E>): Promise<Envelope>;
}

/** One delivery of a batch: the event's data and its envelope. */
export interface BatchItem<E extends EventDefinition = EventDefinition> {
  data: EventData<E>;
  envelope: Envelope;
  /**
   * The W3C trace context of the span this delivery is processed in (undefined while tracing is off): what a handler
   * stores to continue the trace later, outside the delivery (notification's e-mails).
   */
  traceparent?: string;
}

export interface BatchContext {
  /** The transaction that also records the messages in the inbox: commit = each applied exactly once. */
  tx: Transaction;
  /** Adds an event caused by `cause` to this module's outbox in the same transaction (correlation carried on). */
  emit<E extends EventDefinition>(cause: Envelope, event: E, data: EventData<E>): Promise<Envelope>;
  /** Runs `effect` once the transaction has committed (not when it rolls back): counting what the batch did. */
  afterCommit(effect: () => void): void;
}

/**
 * What a module does when an event arrives. The platform hands it consecutive deliveries of the event, in
 * delivery order, all in one transaction: a handler written for a batch pays its statements once per batch.
 */
export interface EventHandler<E extends EventDefinition = EventDefinition> {
  event: E;
  handleMany(items: BatchItem<E>[], ctx: BatchContext): Promise<void>;
}

/**
 * Pairs an event with what a module does for one delivery of it (deliveries of a batch in turn); the lines it logs
 * carry the delivery's correlation id, message id and event.
 */
export function on<E extends EventDefinition>(event: E, handle: (data: EventData<E>, ctx: HandlerContext) => Promise<void>): EventHandler {
  return onBatch(event, async (items, { tx, emit }) => {
    for (const { data, envelope } of items) {
      const current = currentLogContext();
      // The trace id the consumer found for this very message, if the whole batch is this one message.
      const traceId = current?.messageId === envelope.id ? current.traceId : undefined;
      const context = { correlationId: envelope.correlationId, traceId, messageId: envelope.id, event: envelope.name };
      await withLogContext(context, () => handle(data, { tx, envelope, emit: (e, d) => emit(envelope, e, d) }));
    }
  });
}

/** The ids a batch handler's log line about one delivery carries: its correlation id, message id and event. */
export function deliveryLogFields(envelope: Envelope): { correlationId: string; messageId: string; event: string } {
  return { correlationId: envelope.correlationId, messageId: envelope.id, event: envelope.name };
}

/** Pairs an event with what a module does for a batch of its deliveries at once. */
export function onBatch<E extends EventDefinition>(event: E, handleMany: (items: BatchItem<E>[], ctx: BatchContext) => Promise<void>): EventHandler {
  return { event, handleMany } as unknown as EventHandler;
}
