import { getTableConfig } from "drizzle-orm/pg-core";
import { sqlOf, type DatabaseHandle } from "../db.ts";
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

/** A valid message and the handler it goes to. */
export interface Delivery {
  handler: EventHandler;
  envelope: Envelope;
}

const inboxInserts = new WeakMap<InboxTable, string>();

/** One statement records a whole batch; the rows it returns are the messages not applied before. */
function inboxInsert(inbox: InboxTable): string {
  let text = inboxInserts.get(inbox);
  if (!text) {
    const { schema, name } = getTableConfig(inbox);
    text =
      `insert into "${schema}"."${name}" (message_id, handler) select * from unnest($1::uuid[], $2::text[]) ` +
      `on conflict do nothing returning message_id, handler`;
    inboxInserts.set(inbox, text);
  }
  return text;
}

/**
 * Applies a batch of events to a module exactly once each, in one transaction: the inbox records, the handlers'
 * writes and the events they emit commit together (one commit, one WAL flush for the batch). A message the inbox
 * already had (a redelivery, or the same message twice in the batch) is skipped. Returns, per delivery, whether
 * it was applied now. If any handler throws, nothing of the batch is kept and the error propagates: the caller
 * then applies the deliveries one by one, so a failing message is retried or parked alone.
 */
export async function applyEvents(target: ApplyTarget, deliveries: readonly Delivery[]): Promise<boolean[]> {
  const { database, inbox, outbox, module } = target;
  const keys = deliveries.map((d) => `${module}:${d.envelope.name}`);
  return database.db.transaction(async (tx) => {
    const fresh = await sqlOf(tx).unsafe<{ message_id: string; handler: string }[]>(inboxInsert(inbox), [
      deliveries.map((d) => d.envelope.id),
      keys,
    ]);
    const pending = new Set(fresh.map((row) => `${row.message_id}|${row.handler}`));
    const applied: boolean[] = [];
    for (const [i, { handler, envelope }] of deliveries.entries()) {
      // Taken out once handled: the same message twice in one batch has one effect.
      if (!pending.delete(`${envelope.id}|${keys[i]}`)) {
        applied.push(false);
        continue;
      }
      const emit: HandlerContext["emit"] = (event, data) =>
        outbox.add(tx, event, data, { correlationId: envelope.correlationId, causationId: envelope.id });
      await handler.handle(envelope.data, { tx, envelope, emit });
      applied.push(true);
    }
    return applied;
  });
}

/**
 * Applies one event exactly once (see applyEvents). Returns false when the inbox already had this message.
 * Module tests call it to deliver an event the way the platform does, without a broker.
 */
export async function applyEvent(target: ApplyTarget, handler: EventHandler, envelope: Envelope): Promise<boolean> {
  const [applied] = await applyEvents(target, [{ handler, envelope }]);
  return applied!;
}
