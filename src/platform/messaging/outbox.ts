import { getTableConfig } from "drizzle-orm/pg-core";
import { sqlOf, type Executor } from "../db.ts";
import { checkData, createEnvelope, type Envelope, type EnvelopeMeta } from "./envelope.ts";
import type { EventData, EventDefinition } from "./event.ts";
import type { OutboxTable } from "./tables.ts";

/** The NOTIFY channel every outbox announces new rows on; the payload is the module name. */
export const OUTBOX_CHANNEL = "shop_outbox";

export interface Outbox {
  /** Stores an event in the caller's transaction; it is published only if that transaction commits. */
  add<E extends EventDefinition>(tx: Executor, event: E, data: EventData<E>, meta: EnvelopeMeta): Promise<Envelope>;
}

/** `"schema"."table"` of a drizzle table, for SQL written by hand. */
export function qualifiedName(table: OutboxTable): string {
  const { schema, name } = getTableConfig(table);
  return `"${schema ?? "public"}"."${name}"`;
}

export function createOutbox(table: OutboxTable, module: string): Outbox {
  // One statement: the row and its NOTIFY (delivered at commit, never on rollback, and once per transaction
  // however many rows it adds), so the relay wakes exactly when there is something to send.
  // created_at is the insert's own clock, not the transaction's start: an event written after another
  // transaction committed (a cancel that waited for the confirmation's row lock) sorts after that one's events.
  const insert =
    `with added as (insert into ${qualifiedName(table)} (id, name, envelope, created_at) ` +
    `values ($1, $2, $3::jsonb, clock_timestamp()) returning 1) ` +
    `select pg_notify('${OUTBOX_CHANNEL}', $4) from added`;
  return {
    async add(tx, event, data, meta) {
      // A consumer would park an event that breaks its own contract: refuse it here, where the bug is.
      const invalid = checkData(event, data);
      if (invalid) throw new Error(`refusing to publish ${invalid}`);
      const envelope = createEnvelope(event, data, module, meta);
      await sqlOf(tx).unsafe(insert, [envelope.id, envelope.name, JSON.stringify(envelope), module]);
      return envelope;
    },
  };
}
