import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { supersededMigrations } from "../modules/orders/infrastructure/superseded-migrations.ts";
import { migrationHash } from "../scripts/migrations-lock.ts";
import { createTestDatabase, type TestDatabase } from "./test-support/database.ts";
import { runCli, spawnCli, stopAllProcesses } from "./test-support/process.ts";
import { describeSchema, EARLIER_COMMITS, migrateAsAt, type EarlierCommit } from "./test-support/schema-history.ts";
import { testEnv } from "./test-support/shop.ts";
import { testPrefix } from "./test-support/broker.ts";

// `shop migrate` on databases that earlier commits of the shop migrated and filled: each ends with the schema
// of a freshly migrated database, its rows intact. A database whose bookkeeping is unknown is refused, unchanged.
const prefix = testPrefix("upgrade");
const databases: TestDatabase[] = [];
let fresh: Record<string, string[]>;

async function database(label: string): Promise<TestDatabase> {
  const created = await createTestDatabase(label);
  databases.push(created);
  return created;
}

async function withSql<T>(url: string, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

beforeAll(async () => {
  const reference = await database("upgrade_fresh");
  const migrated = await runCli(["migrate"], testEnv(reference, prefix), 60_000);
  expect(migrated.code).toBe(0);
  fresh = await withSql(reference.url, describeSchema);
});
afterAll(async () => {
  await stopAllProcesses();
  for (const created of databases) await created.drop();
});

const ORDER = "0195c0de-0000-7000-8000-000000000001";
const MESSAGE = "0195c0de-0000-7000-8000-0000000000aa";

/** A little of everything a running shop writes, in the columns every earlier schema has. */
async function fillWithData(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`
    insert into orders.catalog (sku, name, price_cents, currency, active, updated_at) values ('MUG', 'Mug', 1250, 'EUR', true, '2026-11-01T10:00:00Z');
    insert into orders.orders (id, customer_id, customer_email, status, status_reason, total_cents, currency, version, created_at, updated_at)
      values ('${ORDER}', 'alice', 'alice@example.com', 'confirmed', null, 2500, 'EUR', 2, '2026-11-01T10:01:00Z', '2026-11-01T10:02:00Z');
    insert into orders.order_items (order_id, line_no, sku, name, quantity, unit_price_cents, line_total_cents) values ('${ORDER}', 1, 'MUG', 'Mug', 2, 1250, 2500);
    insert into orders.order_history (order_id, status, at, reason) values ('${ORDER}', 'pending', '2026-11-01T10:01:00Z', null), ('${ORDER}', 'confirmed', '2026-11-01T10:02:00Z', null);
    insert into orders.outbox (id, name, envelope, created_at, sent_at, attempts) values
      ('0195c0de-0000-7000-8000-000000000011', 'orders.order-placed', '{"id":"e1"}', '2026-11-01T10:01:00Z', '2026-11-01T10:01:01Z', 1),
      ('0195c0de-0000-7000-8000-000000000012', 'orders.order-confirmed', '{"id":"e2"}', '2026-11-01T10:02:00Z', null, 0);
    insert into orders.inbox (message_id, handler, processed_at) values ('${MESSAGE}', 'inventory.stock-reserved', '2026-11-01T10:02:00Z');
    insert into inventory.products (sku, name, price_cents, currency, active, on_hand, reserved, version, updated_at) values ('MUG', 'Mug', 1250, 'EUR', true, 10, 2, 3, '2026-11-01T10:00:00Z');
    insert into inventory.reservations (order_id, sku, quantity, status, created_at, updated_at) values ('${ORDER}', 'MUG', 2, 'held', '2026-11-01T10:01:30Z', '2026-11-01T10:01:30Z');
    insert into inventory.cancelled_orders (order_id, cancelled_at) values ('0195c0de-0000-7000-8000-000000000002', '2026-11-01T11:00:00Z');
    insert into inventory.outbox (id, name, envelope, created_at) values ('0195c0de-0000-7000-8000-000000000021', 'inventory.stock-reserved', '{"id":"e3"}', '2026-11-01T10:01:30Z');
    insert into inventory.inbox (message_id, handler, processed_at) values ('${MESSAGE}', 'orders.order-placed', '2026-11-01T10:01:30Z');
    insert into notification.notifications (id, message_id, order_id, template, "to", subject, text_body, html_body, status, attempts, created_at, sent_at, next_attempt_at)
      values ('0195c0de-0000-7000-8000-000000000031', '${MESSAGE}', '${ORDER}', 'order-confirmed', 'alice@example.com', 'Confirmed', 'text', '<p>html</p>', 'sent', 1,
              '2026-11-01T10:02:00Z', '2026-11-01T10:02:01Z', '2026-11-01T10:02:00Z');
    insert into notification.outbox (id, name, envelope, created_at) values ('0195c0de-0000-7000-8000-000000000041', 'notification.sent', '{"id":"e4"}', '2026-11-01T10:02:01Z');
    insert into notification.inbox (message_id, handler, processed_at) values ('${MESSAGE}', 'orders.order-confirmed', '2026-11-01T10:02:01Z');
  `);
  const [idempotency] = await sql`select to_regclass('orders.idempotency_keys') is not null as exists`;
  if (idempotency?.exists) {
    await sql`insert into orders.idempotency_keys (customer_id, key, request_hash, status, claim_id, response_status, response_body, order_id)
      values ('alice', 'k-1', ${"a".repeat(64)}, 'completed', gen_random_uuid(), 201, '{"id":"x"}', ${ORDER})`;
  }
}

/** Every row of every module table, as JSON objects keyed by column. */
async function rowsOf(sql: postgres.Sql): Promise<Record<string, Record<string, unknown>[]>> {
  const tables = await sql<{ name: string }[]>`
    select format('%I.%I', table_schema, table_name) as name from information_schema.tables
    where table_schema in ('orders', 'inventory', 'notification') and table_type = 'BASE TABLE' order by 1`;
  const rows: Record<string, Record<string, unknown>[]> = {};
  for (const { name } of tables) {
    rows[name] = (await sql.unsafe<{ row: Record<string, unknown> }[]>(`select row_to_json(t) as row from ${name} t order by row_to_json(t)::text`)).map(
      (r) => r.row,
    );
  }
  return rows;
}

const only = (row: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((key) => [key, row[key]]));

describe("shop migrate on a database migrated by an earlier commit", () => {
  test.each(EARLIER_COMMITS.map((commit) => [commit]))(
    "when the database was migrated and filled at %s, then migrate brings it to today's schema with every row kept",
    async (commit: EarlierCommit) => {
      const old = await database(`upgrade_${commit}`);
      await migrateAsAt(old.url, commit);
      const before = await withSql(old.url, async (sql) => {
        await fillWithData(sql);
        return rowsOf(sql);
      });

      const migrated = await runCli(["migrate"], testEnv(old, prefix), 60_000);
      expect(migrated.stderr).toBe("");
      expect(migrated.code).toBe(0);

      const [after, schema] = await withSql(old.url, async (sql) => [await rowsOf(sql), await describeSchema(sql)] as const);
      expect(schema).toEqual(fresh);
      for (const [table, rows] of Object.entries(before)) {
        expect(rows.length).toBeGreaterThan(0);
        expect(after[table]!.map((row) => only(row, Object.keys(rows[0]!)))).toEqual(rows);
      }
      // What later schemas added is there, empty where the old rows had nothing to say.
      expect(after["orders.catalog"]!.map((row) => row.version)).toEqual([null]);
      expect(after["orders.outbox"]!.map((row) => row.claimed_until)).toEqual([null, null]);
      const added = [...(before["orders.idempotency_keys"] ? [] : ["orders.idempotency_keys"]), "orders.open_units"];
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).concat(added).sort());
      // The units of the orders open at the upgrade are counted (for the cap), with no cap recorded yet.
      expect(after["orders.open_units"]).toEqual([{ customer_id: "alice", sku: "MUG", units: 2, cap: 0 }]);

      // Run again: nothing left to do, nothing changes.
      expect((await runCli(["migrate"], testEnv(old, prefix), 60_000)).code).toBe(0);
      expect(await withSql(old.url, rowsOf)).toEqual(after);
    },
    120_000,
  );

  test("the superseded hashes orders lists are those of the files committed then", async () => {
    const files = ["0c02003", "21a4218"].map((commit) => Bun.file(`${import.meta.dir}/test-support/fixtures/schema-history/${commit}/orders/0000_init.sql`));
    const hashes = await Promise.all(files.map(async (file) => migrationHash(await file.text())));
    expect(supersededMigrations.map((variant) => variant.hash)).toEqual(hashes);
  });
});

describe("a database whose migration bookkeeping this build does not know", () => {
  const UNKNOWN = "f".repeat(64);
  let unknown: TestDatabase;
  let bookkeepingBefore: Record<string, unknown>[];

  beforeAll(async () => {
    unknown = await database("upgrade_unknown");
    await migrateAsAt(unknown.url, "d7d0a7a");
    bookkeepingBefore = await withSql(unknown.url, async (sql) => {
      await sql`update drizzle.orders_migrations set hash = ${UNKNOWN}`;
      return [...(await sql<Record<string, unknown>[]>`select * from drizzle.orders_migrations order by id`)];
    });
  });

  test("when migrate runs, then it exits 1 naming the module, the migration and what to do, without a stack trace, and changes nothing", async () => {
    const result = await runCli(["migrate"], testEnv(unknown, prefix), 60_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Module orders: the database records 1 migration(s) this version of shop does not know");
    expect(result.stderr).toContain(`migration ${UNKNOWN.slice(0, 16)}… (row 1 of drizzle.orders_migrations`);
    expect(result.stderr).toContain("recorded as drizzle/orders/0000_init.sql but with other content");
    expect(result.stderr).toContain("What to do: run the shop version that migrated this database");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    await withSql(unknown.url, async (sql) => {
      expect([...(await sql<Record<string, unknown>[]>`select * from drizzle.orders_migrations order by id`)]).toEqual(bookkeepingBefore);
      const [claim] = await sql`select count(*)::int as n from information_schema.columns where table_schema = 'orders' and column_name = 'claimed_until'`;
      expect(claim?.n).toBe(0);
    });
  });

  test("when serve starts on it, then it exits non-zero saying why instead of serving", async () => {
    const serve = spawnCli(["serve"], testEnv(unknown, prefix));
    const code = await serve.exited;
    expect(code).toBe(1);
    expect(serve.stderr()).toContain("Module orders: the database records 1 migration(s) this version of shop does not know");
    expect(serve.output()).not.toContain("shop is up");
  }, 60_000);
});
