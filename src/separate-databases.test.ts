import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { MODULE_NAMES } from "./config.ts";
import { commerce, newCustomer, newSku } from "./test-support/commerce.ts";
import { eventually } from "./test-support/eventually.ts";
import { runCli } from "./test-support/process.ts";
import { startTestShop, testEnv, type TestShop } from "./test-support/shop.ts";

// Each module in a database of its own (ORDERS_DATABASE_URL, INVENTORY_DATABASE_URL, NOTIFICATION_DATABASE_URL):
// an order lives its whole life across three databases, and no module's table is anywhere but in its own.
let shop: TestShop;

beforeAll(async () => {
  shop = await startTestShop("separate_dbs", {}, { separateDatabases: true });
});
afterAll(async () => {
  await shop?.close();
});

async function query<T>(url: string, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

/** The module schemas that hold tables in the database at `url`, and the migration bookkeeping it keeps. */
async function contents(url: string): Promise<{ schemas: string[]; bookkeeping: string[] }> {
  return query(url, async (sql) => ({
    schemas: (
      await sql<{ schema: string }[]>`
        select distinct table_schema as schema from information_schema.tables where table_schema = any(${[...MODULE_NAMES]}) order by 1`
    ).map((r) => r.schema),
    bookkeeping: (
      await sql<{ name: string }[]>`select table_name as name from information_schema.tables where table_schema = 'drizzle' order by 1`
    ).map((r) => r.name),
  }));
}

describe("each module in a database of its own", () => {
  test(
    "when an order is placed, confirmed, mailed and cancelled, then it works as with one database and each module's tables exist only in its own",
    async () => {
      const api = commerce(shop);
      const customer = newCustomer("sepdb");
      const sku = newSku("SEPDB");
      await api.createProduct(sku, 5);

      const order = await api.confirmedOrder(customer, [{ sku, quantity: 2 }]);
      expect((await api.product(sku)).reserved).toBe(2);
      await api.expectMails(order.id, ["order-confirmed"], customer.email);

      expect((await api.cancel(order.id, customer)).status).toBe(200);
      await api.orderEventually(order.id, "cancelled");
      await api.productEventually(sku, (p) => p.reserved === 0 && p.available === 5, "the reservation released");
      await api.expectMails(order.id, ["order-confirmed", "order-cancelled"], customer.email);

      for (const module of MODULE_NAMES) {
        expect({ module, ...(await contents(shop.database.urls[module])) }).toEqual({ module, schemas: [module], bookkeeping: [`${module}_migrations`] });
      }
      // DATABASE_URL names a database no module lives in: it was never even created.
      const created = await query(shop.database.urls.orders, (sql) => sql`select 1 from pg_database where datname = ${shop.database.name}`);
      expect(created).toHaveLength(0);
    },
    60_000,
  );

  test(
    "when shop check and shop prune run, then each module is checked and swept in its own database",
    async () => {
      const env = testEnv(shop.database, shop.prefix);
      // An event stuck in inventory's outbox (leased far ahead, so the running relay leaves it), and an expired
      // inbox record in notification's: only a check and a sweep of those very databases see them.
      const stuck = Bun.randomUUIDv7();
      await query(shop.database.urls.inventory, (sql) => sql`
        insert into inventory.outbox (id, name, envelope, created_at, claimed_until)
        values (${stuck}, 'inventory.stock-reserved', '{}'::jsonb, now() - interval '2 minutes', now() + interval '1 day')`);
      const expired = crypto.randomUUID();
      await query(shop.database.urls.notification, (sql) => sql`
        insert into notification.inbox (message_id, handler, processed_at) values (${expired}, 'test', now() - interval '40 days')`);
      try {
        const check = await runCli(["check", "--settle", "60s"], env, 30_000);
        expect(check.stdout).toContain("FAIL  inventory: outbox drains");
        expect(check.stdout).toContain("ok    orders: outbox drains");
        for (const module of MODULE_NAMES) expect(check.stdout).toContain(`ok    ${module}: database schema is up to date`);
        expect(check.code).toBe(1);

        const prune = await runCli(["prune"], env, 30_000);
        expect(prune.code).toBe(0);
        expect(prune.stdout).toMatch(/^notification\.inbox: deleted 1 /m);
        const left = await query(shop.database.urls.notification, (sql) => sql`select 1 from notification.inbox where message_id = ${expired}`);
        expect(left).toHaveLength(0);
      } finally {
        await query(shop.database.urls.inventory, (sql) => sql`delete from inventory.outbox where id = ${stuck}`);
      }
    },
    60_000,
  );
  test(
    "when one module's database refuses connections, then readiness reports PostgreSQL down until it is back",
    async () => {
      const ready = async () => {
        const res = await shop.request("/health/ready");
        return { status: res.status, postgres: ((await res.json()) as { checks: Record<string, string> }).checks.postgres };
      };
      expect(await ready()).toEqual({ status: 200, postgres: "up" });
      const notification = new URL(shop.database.urls.notification).pathname.slice(1);
      const admin = shop.database.urls.orders;
      await query(admin, async (sql) => {
        await sql.unsafe(`alter database "${notification}" allow_connections false`);
        await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${notification} and pid <> pg_backend_pid()`;
      });
      try {
        await eventually(ready, { accept: (r) => r.status === 503 && r.postgres === "down", what: "readiness to see notification's database down" });
      } finally {
        await query(admin, (sql) => sql.unsafe(`alter database "${notification}" allow_connections true`));
      }
      await eventually(ready, { accept: (r) => r.status === 200 && r.postgres === "up", what: "readiness to see every database up again", timeoutMs: 20_000 });
    },
    60_000,
  );
});
