import { and, count, isNull, lt, min, sql } from "drizzle-orm";
import type { Executor } from "../db.ts";
import type { InvariantCheck } from "../module.ts";
import type { OutboxTable } from "./tables.ts";

/** An outbox must drain: an event still unsent after `settleMs` is stuck (broker down, relay not running). */
export async function checkOutboxDrains(db: Executor, module: string, table: OutboxTable, settleMs: number): Promise<InvariantCheck> {
  const [row] = await db
    .select({ stuck: count(), oldest: min(table.createdAt) })
    .from(table)
    .where(and(isNull(table.sentAt), lt(table.createdAt, sql`now() - make_interval(secs => ${settleMs / 1000})`)));
  const stuck = row?.stuck ?? 0;
  return {
    name: `${module}: outbox drains`,
    violations: stuck > 0 ? [`${stuck} event(s) unsent for over ${settleMs} ms (oldest from ${row?.oldest?.toISOString()})`] : [],
  };
}
