import { expect } from "bun:test";
import type { Sql } from "postgres";

/** The modules' Postgres schemas: every table in them (outboxes, inboxes included) is snapshotted. */
export const MODULE_SCHEMAS = ["orders", "inventory", "notification"] as const;

/** Per table (`schema.table`): its row count and an md5 of its rows, so an UPDATE shows as well as an INSERT. */
export type TableSnapshot = Record<string, { rows: number; md5: string }>;

/** One query over every table of the modules' schemas. */
export async function snapshotTables(sql: Sql): Promise<TableSnapshot> {
  const tables = await sql<{ schema: string; table: string }[]>`
    select table_schema as schema, table_name as table from information_schema.tables
    where table_schema in ${sql([...MODULE_SCHEMAS])} and table_type = 'BASE TABLE'
    order by 1, 2`;
  if (tables.length === 0) throw new Error("no tables found in the module schemas: is the database migrated?");
  const parts = tables.map(({ schema, table }) => {
    const name = `"${schema}"."${table}"`;
    return `select '${schema}.${table}' as name, count(*)::int as rows,
              md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as md5 from ${name} t`;
  });
  const rows = await sql.unsafe<{ name: string; rows: number; md5: string }[]>(parts.join(" union all "));
  return Object.fromEntries(rows.map((r) => [r.name, { rows: r.rows, md5: r.md5 }]));
}

/**
 * Waits until nothing moves any more: the outboxes are drained and two snapshots `quietMs` apart are equal
 * (relays, consumers and the mail dispatcher have finished). Returns that snapshot.
 */
export async function settledSnapshot(sql: Sql, options: { timeoutMs?: number; quietMs?: number } = {}): Promise<TableSnapshot> {
  const { timeoutMs = 15_000, quietMs = 300 } = options;
  const deadline = Date.now() + timeoutMs;
  let previous = await snapshotTables(sql);
  while (Date.now() < deadline) {
    await Bun.sleep(quietMs);
    const [row] = await sql<{ unsent: number }[]>`
      select (select count(*) from orders.outbox where sent_at is null)
           + (select count(*) from inventory.outbox where sent_at is null)
           + (select count(*) from notification.outbox where sent_at is null)
           + (select count(*) from notification.notifications where status = 'pending') as unsent`;
    const current = await snapshotTables(sql);
    if (Number(row?.unsent) === 0 && Bun.deepEquals(current, previous)) return current;
    previous = current;
  }
  throw new Error(`the shop's tables did not settle within ${timeoutMs} ms`);
}

/** Asserts that no table of the module schemas gained, lost or changed a row since `before`. */
export async function expectNothingWritten(sql: Sql, before: TableSnapshot): Promise<void> {
  const after = await snapshotTables(sql);
  const changed = Object.keys({ ...before, ...after }).filter((name) => !Bun.deepEquals(before[name], after[name]));
  expect(changed).toEqual([]);
}
