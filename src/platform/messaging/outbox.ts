import { sql } from "drizzle-orm";
import type { Executor } from "../db.ts";
import { checkData, createEnvelope, type Envelope, type EnvelopeMeta } from "./envelope.ts";
import type { EventData, EventDefinition } from "./event.ts";
import type { OutboxTable } from "./tables.ts";

/** The NOTIFY channel every outbox announces new rows on; the payload is the module name. */
export const OUTBOX_CHANNEL = "shop_outbox";

export interface Outbox {
  /** Stores an event in the caller's transaction; it is published only if that transaction commits. */
  add<E extends EventDefinition>(tx: Executor, event: E, data: EventData<E>, meta: EnvelopeMeta): Promise<Envelope>;
}

export function createOutbox(table: OutboxTable, module: string): Outbox {
  return {
    async add(tx, event, data, meta) {
      // A consumer would park an event that breaks its own contract: refuse it here, where the bug is.
      const invalid = checkData(event, data);
      if (invalid) throw new Error(`refusing to publish ${invalid}`);
      const envelope = createEnvelope(event, data, module, meta);
      await tx.insert(table).values({ id: envelope.id, name: envelope.name, envelope });
      // Delivered at commit, never on rollback: the relay wakes exactly when there is something to send.
      await tx.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, ${module})`);
      return envelope;
    },
  };
}
