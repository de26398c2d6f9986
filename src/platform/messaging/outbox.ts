import { qualifiedName, sqlOf, type Executor, type Statement, type Writes } from "../db.ts";
import { endSpan, SpanKind, startSpan, traceparentOf, tracingEnabled } from "../tracing/spans.ts";
import { checkData, createEnvelope, type Envelope, type EnvelopeMeta } from "./envelope.ts";
import type { EventData, EventDefinition } from "./event.ts";
import { messageAttributes } from "./message-spans.ts";
import type { OutboxTable } from "./tables.ts";

/** The NOTIFY channel every outbox announces new rows on; the payload is the module name. */
export const OUTBOX_CHANNEL = "shop_outbox";

export interface Outbox {
  /** Stores an event in the caller's transaction; it is published only if that transaction commits. */
  add<E extends EventDefinition>(tx: Executor, event: E, data: EventData<E>, meta: EnvelopeMeta): Promise<Envelope>;
  /** Checks an event and makes its envelope, to be stored later with addAll (in the same transaction). */
  envelope<E extends EventDefinition>(event: E, data: EventData<E>, meta: EnvelopeMeta): Envelope;
  /** Stores envelopes made by `envelope`, in order, in one statement. */
  addAll(tx: Executor, envelopes: readonly Envelope[]): Promise<void>;
  /**
   * One statement that makes the caller's `writes` and stores the event (an envelope made by `envelope`) with its
   * NOTIFY: both or neither, with no transaction around them.
   */
  insertWith(envelope: Envelope, writes: Writes): Statement;
  /**
   * Runs `write`, which stores `envelope` (with `insertWith`), in an "outbox insert" span, the child of the context the
   * envelope was made in; the envelope then carries that span as its trace parent. Only `work` when tracing is off.
   */
  traced<T>(envelope: Envelope, write: () => Promise<T>): Promise<T>;
}

export function createOutbox(table: OutboxTable, module: string): Outbox {
  // One statement: the caller's writes (if any), the row and its NOTIFY (delivered at commit, never on rollback,
  // and once per transaction however many rows it adds), so the relay wakes exactly when there is something to
  // send. created_at is the insert's own clock, not the transaction's start: an event written after another
  // transaction committed (a cancel that waited for the confirmation's row lock) sorts after that one's events.
  const tableName = qualifiedName(table);
  const insertAfter = (writes: Writes) => {
    const n = writes.params.length;
    return (
      `with ${writes.ctes ? `${writes.ctes}, ` : ""}added as (insert into ${tableName} (id, name, envelope, created_at) ` +
      `values ($${n + 1}, $${n + 2}, $${n + 3}::jsonb, clock_timestamp()) returning 1) ` +
      `select pg_notify('${OUTBOX_CHANNEL}', $${n + 4}) from added`
    );
  };
  const insert = insertAfter({ ctes: "", params: [] });
  const insertAll =
    `with added as (insert into ${tableName} (id, name, envelope, created_at) ` +
    `select e.id, e.name, e.envelope::jsonb, clock_timestamp() from unnest($1::uuid[], $2::text[], $3::text[]) with ordinality as e(id, name, envelope, n) ` +
    `order by e.n returning 1) ` +
    `select pg_notify('${OUTBOX_CHANNEL}', $4) where exists (select 1 from added)`;
  const envelope: Outbox["envelope"] = (event, data, meta) => {
    // A consumer would park an event that breaks its own contract: refuse it here, where the bug is.
    const invalid = checkData(event, data);
    if (invalid) throw new Error(`refusing to publish ${invalid}`);
    return createEnvelope(event, data, module, meta);
  };
  const row = (made: Envelope) => [made.id, made.name, JSON.stringify(made), module];
  // Started before the envelope is serialized: the stored envelope names the span as its trace parent.
  const startInsertSpan = (made: Envelope) => {
    const span = startSpan(`outbox insert ${made.name}`, { kind: SpanKind.INTERNAL, parent: made.traceparent, attributes: messageAttributes(module, made) });
    const traceparent = traceparentOf(span);
    if (traceparent) made.traceparent = traceparent;
    return span;
  };
  const traced: Outbox["traced"] = async (made, write) => {
    if (!tracingEnabled()) return write();
    const span = startInsertSpan(made);
    try {
      const result = await write();
      endSpan(span);
      return result;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  };
  return {
    envelope,
    traced,
    insertWith: (made, writes) => ({ text: insertAfter(writes), params: [...writes.params, ...row(made)] }),
    async add(tx, event, data, meta) {
      const made = envelope(event, data, meta);
      await traced(made, () => sqlOf(tx).unsafe(insert, row(made) as never[]));
      return made;
    },
    async addAll(tx, envelopes) {
      if (envelopes.length === 0) return;
      // One statement for all: each envelope's span covers it.
      const spans = tracingEnabled() ? envelopes.map(startInsertSpan) : [];
      try {
        await sqlOf(tx).unsafe(insertAll, [
          envelopes.map((e) => e.id),
          envelopes.map((e) => e.name),
          envelopes.map((e) => JSON.stringify(e)),
          module,
        ]);
      } catch (error) {
        for (const span of spans) endSpan(span, error);
        throw error;
      }
      for (const span of spans) endSpan(span);
    },
  };
}
