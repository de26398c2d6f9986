import { qualifiedName, sqlOf, type DatabaseHandle } from "../db.ts";
import type { Envelope } from "./envelope.ts";
import type { BatchContext, EventHandler } from "./handler.ts";
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
  /** The trace context of the span this delivery is processed in (tracing on): the parent of what it emits. */
  traceparent?: string;
}

/** One statement records a whole batch; the rows it returns are the messages not applied before. */
function inboxInsert(inbox: InboxTable): string {
  return (
    `insert into ${qualifiedName(inbox)} (message_id, handler) select * from unnest($1::uuid[], $2::text[]) ` +
    `on conflict do nothing returning message_id, handler`
  );
}

/**
 * Applies a batch of events to a module exactly once each, in one transaction: the inbox records, the handlers'
 * writes and the events they emit commit together (one commit, one WAL flush for the batch). A message the inbox
 * already had (a redelivery, or the same message twice in the batch) is skipped. Consecutive fresh deliveries for
 * the same handler go to it together, in delivery order; the events they emit are stored in one statement at the
 * end. Returns, per delivery, whether it was applied now. If any handler throws, nothing of the batch is kept and
 * the error propagates: the caller then applies the deliveries one by one, so a failing message is retried or
 * parked alone.
 */
export async function applyEvents(target: ApplyTarget, deliveries: readonly Delivery[]): Promise<boolean[]> {
  const { database, inbox, outbox, module } = target;
  const keys = deliveries.map((d) => `${module}:${d.envelope.name}`);
  const committed: Array<() => void> = [];
  const applied = await database.db.transaction(async (tx) => {
    const fresh = await sqlOf(tx).unsafe<{ message_id: string; handler: string }[]>(inboxInsert(inbox), [
      deliveries.map((d) => d.envelope.id),
      keys,
    ]);
    const pending = new Set(fresh.map((row) => `${row.message_id}|${row.handler}`));
    // Taken out once seen: the same message twice in one batch has one effect.
    const applied = deliveries.map((d, i) => pending.delete(`${d.envelope.id}|${keys[i]}`));

    const emitted: Envelope[] = [];
    const ctx: BatchContext = {
      tx,
      emit: async (cause, event, data) => {
        const traceparent = deliveries.find((d) => d.envelope === cause)?.traceparent;
        const envelope = outbox.envelope(event, data, { correlationId: cause.correlationId, causationId: cause.id, traceparent });
        emitted.push(envelope);
        return envelope;
      },
      afterCommit: (effect) => {
        committed.push(effect);
      },
    };
    for (const run of runsOfOneHandler(deliveries.filter((_, i) => applied[i]))) {
      await run.handler.handleMany(
        run.deliveries.map(({ envelope, traceparent }) => ({ data: envelope.data, envelope, traceparent })),
        ctx,
      );
    }
    await outbox.addAll(tx, emitted);
    return applied;
  });
  for (const effect of committed) effect();
  return applied;
}

/** Consecutive deliveries that go to the same handler, in order. */
function runsOfOneHandler(deliveries: readonly Delivery[]): Array<{ handler: EventHandler; deliveries: Delivery[] }> {
  const runs: Array<{ handler: EventHandler; deliveries: Delivery[] }> = [];
  for (const delivery of deliveries) {
    const last = runs.at(-1);
    if (last?.handler === delivery.handler) last.deliveries.push(delivery);
    else runs.push({ handler: delivery.handler, deliveries: [delivery] });
  }
  return runs;
}

/**
 * Applies one event exactly once (see applyEvents). Returns false when the inbox already had this message.
 * Module tests call it to deliver an event the way the platform does, without a broker.
 */
export async function applyEvent(target: ApplyTarget, handler: EventHandler, envelope: Envelope): Promise<boolean> {
  const [applied] = await applyEvents(target, [{ handler, envelope }]);
  return applied!;
}
