import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { prepare } from "./app.ts";
import { loadConfig } from "./config.ts";
import { createTestDatabase, type TestDatabase } from "./test-support/database.ts";
import { eventually } from "./test-support/eventually.ts";
import { testEnv } from "./test-support/shop.ts";
import { createLogger } from "./platform/logger.ts";
import type { Sql } from "./platform/db.ts";
import { RetentionSweeper } from "./platform/retention/sweeper.ts";
import { sweepModule } from "./platform/retention/sweep.ts";

// The sweep against every module's real schema, with the default periods: rows are made old by their timestamps.
let database: TestDatabase;
let prepared: Awaited<ReturnType<typeof prepare>>;
let sql: Sql;

beforeAll(async () => {
  database = await createTestDatabase("retention");
  const config = loadConfig(testEnv(database, "unused."));
  prepared = await prepare(config, createLogger("silent"));
  sql = prepared.databaseOf("orders").sql;
});
afterAll(async () => {
  await prepared?.close();
  await database?.drop();
});

const sweeper = () => new RetentionSweeper({ modules: prepared.retention, intervalMs: 3_600_000, logger: createLogger("silent") });
const rulesOf = (module: string) => prepared.retention.find((m) => m.name === module)!.rules;
/** The background pool of the (one) database the modules share. */
const background = () => prepared.retention[0]!.sql;
const ago = (text: string) => sql`now() - ${text}::interval`;

async function outboxRow(module: string, sentAgo: string | null, createdAgo = "400 days"): Promise<string> {
  const id = Bun.randomUUIDv7();
  await sql`insert into ${sql(module)}.outbox (id, name, envelope, created_at, sent_at)
    values (${id}, 'test.event', '{}'::jsonb, ${ago(createdAgo)}, ${sentAgo === null ? null : ago(sentAgo)})`;
  return id;
}

async function inboxRow(module: string, processedAgo: string): Promise<string> {
  const id = Bun.randomUUIDv7();
  await sql`insert into ${sql(module)}.inbox (message_id, handler, processed_at) values (${id}, 'test', ${ago(processedAgo)})`;
  return id;
}

async function email(status: "pending" | "sent" | "failed", age: string): Promise<string> {
  const id = Bun.randomUUIDv7();
  await sql`insert into notification.notifications
      (id, message_id, order_id, template, "to", subject, text_body, html_body, status, attempts, created_at, sent_at, next_attempt_at)
    values (${id}, ${Bun.randomUUIDv7()}, ${Bun.randomUUIDv7()}, 'order-confirmed', 'a@example.com', 'Your order', 'text body', '<p>html body</p>',
      ${status}, ${status === "pending" ? 0 : 5}, ${ago(age)}, ${status === "sent" ? ago(age) : null}, ${ago(age)})`;
  return id;
}

const exists = async (query: PromiseLike<readonly unknown[]>) => (await query).length > 0;

describe("retention sweep", () => {
  test("when rows of every kind are past their period, then they go and the younger ones of each kind stay", async () => {
    const rows = {
      ordersSentOld: await outboxRow("orders", "8 days"),
      ordersSentYoung: await outboxRow("orders", "6 days"),
      inventorySentOld: await outboxRow("inventory", "8 days"),
      notificationSentOld: await outboxRow("notification", "8 days"),
      ordersInboxOld: await inboxRow("orders", "31 days"),
      ordersInboxYoung: await inboxRow("orders", "29 days"),
      inventoryInboxOld: await inboxRow("inventory", "31 days"),
      notificationInboxOld: await inboxRow("notification", "31 days"),
      notificationInboxYoung: await inboxRow("notification", "29 days"),
      markerOld: Bun.randomUUIDv7(),
      markerYoung: Bun.randomUUIDv7(),
      sentOld: await email("sent", "31 days"),
      sentYoung: await email("sent", "29 days"),
    };
    await sql`insert into inventory.cancelled_orders (order_id, cancelled_at) values (${rows.markerOld}, ${ago("31 days")}), (${rows.markerYoung}, ${ago("29 days")})`;
    await sql`insert into orders.idempotency_keys (customer_id, key, request_hash, status, claim_id, created_at)
      values ('gone', 'old-key', ${"a".repeat(64)}, 'in_flight', ${Bun.randomUUIDv7()}, ${ago("25 hours")}),
             ('gone', 'young-key', ${"a".repeat(64)}, 'in_flight', ${Bun.randomUUIDv7()}, ${ago("23 hours")})`;

    const swept = await sweeper().sweepNow();

    const outbox = (module: string, id: string) => exists(sql`select 1 from ${sql(module)}.outbox where id = ${id}`);
    const inbox = (module: string, id: string) => exists(sql`select 1 from ${sql(module)}.inbox where message_id = ${id}`);
    expect(await outbox("orders", rows.ordersSentOld)).toBe(false);
    expect(await outbox("orders", rows.ordersSentYoung)).toBe(true);
    expect(await outbox("inventory", rows.inventorySentOld)).toBe(false);
    expect(await outbox("notification", rows.notificationSentOld)).toBe(false);
    expect(await inbox("orders", rows.ordersInboxOld)).toBe(false);
    expect(await inbox("orders", rows.ordersInboxYoung)).toBe(true);
    expect(await inbox("inventory", rows.inventoryInboxOld)).toBe(false);
    expect(await inbox("notification", rows.notificationInboxOld)).toBe(false);
    expect(await inbox("notification", rows.notificationInboxYoung)).toBe(true);
    expect((await sql`select order_id from inventory.cancelled_orders`).map((r) => r.order_id)).toEqual([rows.markerYoung]);
    expect((await sql`select key from orders.idempotency_keys where customer_id = 'gone'`).map((r) => r.key)).toEqual(["young-key"]);
    // A sent e-mail keeps its row (the admins' list shows it), only its bodies go.
    const emails = await sql`select id, status, subject, text_body, html_body from notification.notifications where id in ${sql([rows.sentOld, rows.sentYoung])}`;
    expect(emails.find((e) => e.id === rows.sentOld)).toMatchObject({ status: "sent", subject: "Your order", text_body: "", html_body: "" });
    expect(emails.find((e) => e.id === rows.sentYoung)).toMatchObject({ text_body: "text body", html_body: "<p>html body</p>" });

    const orders = swept.find((m) => m.module === "orders")!;
    expect(orders.skipped).toBe(false);
    expect(orders.tables.map((t) => [t.table, t.rows])).toEqual([
      ["orders.outbox", 1],
      ["orders.inbox", 1],
      ["orders.idempotency_keys", 1],
    ]);
  });

  test("when unsent events and pending or failed e-mails are years old, then the sweep leaves every one of them", async () => {
    const unsent = await outboxRow("orders", null, "3 years");
    const leased = Bun.randomUUIDv7();
    await sql`insert into inventory.outbox (id, name, envelope, created_at, claimed_until, attempts)
      values (${leased}, 'test.event', '{}'::jsonb, ${ago("3 years")}, now() + interval '10 seconds', 7)`;
    const pending = await email("pending", "3 years");
    const failed = await email("failed", "3 years");

    await sweeper().sweepNow();

    expect(await exists(sql`select 1 from orders.outbox where id = ${unsent} and sent_at is null`)).toBe(true);
    expect(await exists(sql`select 1 from inventory.outbox where id = ${leased}`)).toBe(true);
    const kept = await sql`select id, text_body, html_body from notification.notifications where id in ${sql([pending, failed])}`;
    expect(kept.map((e) => [e.text_body, e.html_body])).toEqual([
      ["text body", "<p>html body</p>"],
      ["text body", "<p>html body</p>"],
    ]);
  });

  test("when more rows expired than one batch holds, then they all go, one short statement per batch", async () => {
    await sql`insert into orders.inbox (message_id, handler, processed_at)
      select gen_random_uuid(), 'bulk', now() - interval '40 days' from generate_series(1, 2500)`;
    const young = await inboxRow("orders", "1 day");

    const swept = await sweepModule(background(), "orders", rulesOf("orders"));

    const inbox = swept.tables.find((t) => t.table === "orders.inbox")!;
    expect(inbox).toMatchObject({ rows: 2500, batches: 3 });
    expect((await sql`select count(*)::int as n from orders.inbox where handler = 'bulk'`)[0]!.n).toBe(0);
    expect(await exists(sql`select 1 from orders.inbox where message_id = ${young}`)).toBe(true);
  });

  test("when two instances sweep at once, then one sweeps the module and the other skips it at once instead of waiting", async () => {
    const old = await outboxRow("inventory", "30 days");
    // Hold the first sweeper inside its sweep: its delete waits for this table lock (reads still pass), with the
    // module's lock taken.
    const blocker = await sql.reserve();
    await blocker`begin`;
    await blocker`lock table inventory.outbox in share mode`;
    const first = sweepModule(background(), "inventory", rulesOf("inventory"));
    try {
      await eventually(
        async () => (await sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`)[0]!.n,
        { accept: (n) => n === 1, what: "the first sweeper to hold the module's lock" },
      );
      const second = await sweepModule(background(), "inventory", rulesOf("inventory"));
      expect(second).toEqual({ module: "inventory", skipped: true, tables: [] });
      expect(await exists(sql`select 1 from inventory.outbox where id = ${old}`)).toBe(true);
    } finally {
      await blocker`commit`;
      blocker.release();
    }
    const done = await first;
    expect(done.skipped).toBe(false);
    expect(done.tables.find((t) => t.table === "inventory.outbox")!.rows).toBeGreaterThanOrEqual(1);
    expect(await exists(sql`select 1 from inventory.outbox where id = ${old}`)).toBe(false);
    // The lock was given back: a later sweep runs.
    expect((await sweepModule(background(), "inventory", rulesOf("inventory"))).skipped).toBe(false);
  });

  test("when asked for a dry run, then it counts what would go and changes nothing", async () => {
    const old = await outboxRow("notification", "30 days");
    const swept = await sweepModule(background(), "notification", rulesOf("notification"), { dryRun: true });
    expect(swept.tables.find((t) => t.table === "notification.outbox")).toMatchObject({ rows: 1, batches: 0 });
    expect(await exists(sql`select 1 from notification.outbox where id = ${old}`)).toBe(true);
    await sweepModule(background(), "notification", rulesOf("notification"));
  });

  test("when the sweeper is stopped, then it starts no further batch", async () => {
    await sql`insert into orders.inbox (message_id, handler, processed_at)
      select gen_random_uuid(), 'stopping', now() - interval '40 days' from generate_series(1, 3000)`;
    const running = new RetentionSweeper({ modules: prepared.retention, intervalMs: 3_600_000, logger: createLogger("silent"), batchSize: 100 });
    const sweep = running.sweepNow();
    await eventually(async () => (await sql`select count(*)::int as n from orders.inbox where handler = 'stopping'`)[0]!.n, {
      accept: (n) => n < 3000,
      intervalMs: 5,
      what: "the sweep to have started",
    });
    await running.stop();
    await sweep;
    const left = (await sql`select count(*)::int as n from orders.inbox where handler = 'stopping'`)[0]!.n;
    expect(left).toBeGreaterThan(0);
    await sweepModule(background(), "orders", rulesOf("orders"));
  });
});
