import type { Transaction } from "../db.ts";
import type { Envelope } from "./envelope.ts";
import type { EventData, EventDefinition } from "./event.ts";

export interface HandlerContext {
  /** The transaction that also records the message in the inbox: commit = applied exactly once. */
  tx: Transaction;
  envelope: Envelope;
  /** Adds an event to this module's outbox in the same transaction (correlation carried on). */
  emit<E extends EventDefinition>(event: E, data: EventData<E>): Promise<Envelope>;
}

export interface EventHandler<E extends EventDefinition = EventDefinition> {
  event: E;
  handle(data: EventData<E>, ctx: HandlerContext): Promise<void>;
}

/** Pairs an event with what a module does when it arrives. */
export function on<E extends EventDefinition>(event: E, handle: (data: EventData<E>, ctx: HandlerContext) => Promise<void>): EventHandler {
  return { event, handle } as unknown as EventHandler;
}
