import type { DatabaseHandle } from "../db.ts";
import type { Envelope } from "./envelope.ts";
import type { EventHandler, HandlerContext } from "./handler.ts";
import type { Outbox } from "./outbox.ts";
import type { InboxTable } from "./tables.ts";

export interface ApplyTarget {
  module: string;
  database: DatabaseHandle;
  inbox: InboxTable;
  outbox: Outbox;
}

/**
 * Applies one event to a module exactly once: the inbox record, the handler's writes and the events it
 * emits commit in one transaction. Returns false when the inbox already had this message (a redelivery),
 * and then does nothing. The consumer calls this for every valid message; module tests call it to deliver
 * an event the way the platform does, without a broker.
 */
export async function applyEvent(target: ApplyTarget, handler: EventHandler, envelope: Envelope): Promise<boolean> {
  const { database, inbox, outbox, module } = target;
  return database.db.transaction(async (tx) => {
    const fresh = await tx
      .insert(inbox)
      .values({ messageId: envelope.id, handler: `${module}:${envelope.name}` })
      .onConflictDoNothing()
      .returning({ messageId: inbox.messageId });
    if (fresh.length === 0) return false;
    const emit: HandlerContext["emit"] = (event, data) =>
      outbox.add(tx, event, data, { correlationId: envelope.correlationId, causationId: envelope.id });
    await handler.handle(envelope.data, { tx, envelope, emit });
    return true;
  });
}
