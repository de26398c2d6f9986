import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ModuleName } from "./config.ts";
import { ProductUpserted } from "../modules/inventory/contract.ts";
import { createEnvelope } from "./platform/messaging/envelope.ts";
import { DEAD_LETTER_REASON_HEADER } from "./platform/messaging/consumer.ts";
import { openDatabase } from "./platform/db.ts";
import { RETENTION_LOCK } from "./platform/retention/sweep.ts";
import { createTestDatabase } from "./test-support/database.ts";
import { eventually } from "./test-support/eventually.ts";
import { publishRaw } from "./test-support/broker.ts";
import { runCli } from "./test-support/process.ts";
import { describeSchema, migrateAsAt } from "./test-support/schema-history.ts";
import { admin, alice, startTestShop, testEnv, type TestShop } from "./test-support/shop.ts";
import { startSmtpServer, subjectOf, type TestSmtpServer } from "./test-support/smtp-server.ts";

// The operator's commands, run as the real CLI against a live shop: `shop check`, `shop dlq` and `shop mail`.
// The shop sends its e-mails to a real SMTP server, which a test can make refuse them; an e-mail is given up on
// after three quick attempts.
let shop: TestShop;
let smtp: TestSmtpServer;
let env: Record<string, string>;

beforeAll(async () => {
  smtp = await startSmtpServer();
  shop = await startTestShop("operator", { SMTP_URL: smtp.url, MAIL_RETRY_DELAYS_MS: "50,50" });
  env = testEnv(shop.database, shop.prefix);
});
afterAll(async () => {
  await shop?.close();
  await smtp?.close();
});

/** A direct connection to a module's database. */
const sql = (module: ModuleName = "orders") => shop.shop.databaseOf(module).sql;

async function confirmedOrder(): Promise<{ sku: string; orderId: string }> {
  const sku = `OPS-${crypto.randomUUID().slice(0, 8)}`;
  const put = await shop.request(`/products/${sku}`, { method: "PUT", as: admin, json: { name: sku, priceCents: 100, stock: 5 } });
  expect(put.status).toBe(201);
  const placed = await eventually(() => shop.request("/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 2 }] } }), {
    accept: (r) => r.status === 201,
    what: "orders to know the product",
  });
  const { id } = (await placed.json()) as { id: string };
  await eventually(async () => ((await (await shop.request(`/orders/${id}`, { as: alice })).json()) as { status: string }).status, {
    accept: (s) => s === "confirmed",
  });
  return { sku, orderId: id };
}

describe("shop check", () => {
  test("when the shop is consistent, then check reports every invariant as holding and exits 0", async () => {
    await confirmedOrder();
    const result = await runCli(["check", "--settle", "0s"], env);
    expect(result.stdout).toContain("ok    inventory: reserved equals the sum of open reservations");
    expect(result.stdout).toContain("all invariants hold");
    expect(result.code).toBe(0);
  });

  test("when a product's reserved count drifts from its reservations, then check names the sku and exits 1", async () => {
    const { sku } = await confirmedOrder();
    await sql("inventory")`update inventory.products set reserved = reserved + 1 where sku = ${sku}`;
    try {
      const result = await runCli(["check", "--settle", "0s"], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`${sku}: reserved 3, held reservations add up to 2`);
    } finally {
      await sql("inventory")`update inventory.products set reserved = reserved - 1 where sku = ${sku}`;
    }
  });

  test("when a pending order's event was sent but no answer came, then check reports the order as stuck", async () => {
    const [row] = await sql()<{ id: string }[]>`
      insert into orders.orders (id, customer_id, customer_email, status, total_cents, currency, version, created_at, updated_at)
      values (gen_random_uuid(), 'ghost', 'ghost@example.com', 'pending', 0, 'EUR', 1, now() - interval '1 hour', now() - interval '1 hour')
      returning id`;
    try {
      const result = await runCli(["check", "--settle", "60s"], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`order ${row!.id} is still pending`);
    } finally {
      await sql()`delete from orders.orders where id = ${row!.id}`;
    }
  });

  test("when an outbox event stays unsent beyond the settle time, then check reports the outbox as stuck", async () => {
    // A database whose shop is not running, so no relay drains it: the event stays where it is.
    const idle = await createTestDatabase("operator_idle");
    const idleEnv = testEnv(idle, shop.prefix);
    try {
      expect((await runCli(["migrate"], idleEnv)).code).toBe(0);
      const handle = openDatabase(idle.url);
      await handle.sql`insert into inventory.outbox (id, name, envelope, created_at)
        values (${Bun.randomUUIDv7()}, 'inventory.stock-reserved', '{}'::jsonb, now() - interval '2 minutes')`;
      await handle.close();
      const result = await runCli(["check", "--settle", "60s"], idleEnv);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("FAIL  inventory: outbox drains");
      expect(result.stdout).toContain("1 event(s) unsent for over 60000 ms");
      expect(result.stdout).toContain("ok    orders: outbox drains");
    } finally {
      await idle.drop();
    }
  });

  test("when the database does not exist, then check reports it, exits 1 and leaves it non-existent", async () => {
    const missing = await createTestDatabase("operator_missing");
    await missing.drop();
    try {
      const result = await runCli(["check", "--settle", "0s"], testEnv(missing, shop.prefix));
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`FAIL  database exists`);
      expect(result.stdout).toContain(`database "${missing.name}" does not exist at 127.0.0.1:5432: create and migrate it with \`shop migrate\``);
      const [found] = await sql()<{ n: number }[]>`select count(*)::int as n from pg_database where datname = ${missing.name}`;
      expect(found?.n).toBe(0);
    } finally {
      await missing.drop(); // whatever the check did
    }
  });

  test("when the database was migrated by an earlier commit, then check reports what migrate would do, exits 1 and applies nothing", async () => {
    const old = await createTestDatabase("operator_old");
    try {
      await migrateAsAt(old.url, "0c02003");
      const handle = openDatabase(old.url);
      const before = await describeSchema(handle.sql);
      const result = await runCli(["check", "--settle", "0s"], testEnv(old, shop.prefix));
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("FAIL  orders: database schema is up to date");
      expect(result.stdout).toContain("has 0000_init as generated at commit 0c02003 applied, an earlier variant of 0000_init: `shop migrate` upgrades it");
      expect(result.stdout).toMatch(/\d+ migration\(s\) not applied: 0001_outbox_claim(, \w+)* — run `shop migrate`/);
      expect(result.stdout).toContain("FAIL  inventory: database schema is up to date");
      expect(await describeSchema(handle.sql)).toEqual(before);
      await handle.close();
    } finally {
      await old.drop();
    }
  });

  test("when --settle is not a duration, then check says so and exits 2", async () => {
    const result = await runCli(["check", "--settle", "soon"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--settle takes a duration");
  });
});

describe("shop dlq", () => {
  test("when a poison message is parked, then dlq list shows it with its reason and the routing key it was published with, and leaves it parked", async () => {
    await publishRaw(shop.shop.broker.names.events, ProductUpserted.name, "{definitely not json");
    const listed = await eventually(() => runCli(["dlq", "list", "orders"], env), {
      accept: (r) => r.stdout.includes("invalid JSON"),
      what: "the parked message in the list",
    });
    expect(listed.code).toBe(0);
    const parked = listed.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parked).toContainEqual(expect.objectContaining({ event: ProductUpserted.name, routingKey: ProductUpserted.name }));
    const again = await runCli(["dlq", "list", "orders"], env);
    expect(again.stdout).toContain("invalid JSON");
  });

  test("when a parked message is replayed after the cause is fixed, then the module applies it and the DLQ no longer holds it", async () => {
    // A valid event parked by hand (as if its handler had failed until a fix was deployed).
    const sku = `REPLAY-${crypto.randomUUID().slice(0, 8)}`;
    const envelope = createEnvelope(ProductUpserted, { sku, name: "Replayed", priceCents: 700, currency: "EUR", active: true }, "inventory", {
      correlationId: "replay-test",
    });
    await publishRaw("", shop.shop.broker.names.dlq("orders"), JSON.stringify(envelope), {
      messageId: envelope.id,
      type: envelope.name,
      headers: { [DEAD_LETTER_REASON_HEADER]: "handler failed after 3 attempts: simulated outage" },
    });
    const before = await runCli(["dlq", "list", "orders"], env);
    expect(before.stdout).toContain(envelope.id);

    const replay = await runCli(["dlq", "replay", "orders", "--id", envelope.id], env);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(envelope.id);

    // orders now knows the product: an order for it is priced at 700.
    const placed = await eventually(() => shop.request("/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 1 }] } }), {
      accept: (r) => r.status === 201,
      what: "orders to have applied the replayed event",
    });
    expect(((await placed.json()) as { totalCents: number }).totalCents).toBe(700);
    const after = await runCli(["dlq", "list", "orders"], env);
    expect(after.stdout).not.toContain(envelope.id);
  });

  test("when the module name is unknown, then dlq says how to call it and exits 2", async () => {
    const result = await runCli(["dlq", "list", "payments"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: shop dlq list|replay");
  });
});

describe("shop prune", () => {
  const oldInboxRecord = async () => {
    const id = Bun.randomUUIDv7();
    await sql("notification")`insert into notification.inbox (message_id, handler, processed_at) values (${id}, 'test', now() - interval '40 days')`;
    return id;
  };
  const kept = async (id: string) => (await sql("notification")`select 1 from notification.inbox where message_id = ${id}`).length === 1;

  test("when run with --dry-run, then it prints per table what would go and deletes nothing", async () => {
    const id = await oldInboxRecord();
    const result = await runCli(["prune", "--dry-run"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("notification.inbox: would delete 1 (processed message ids older than 30d)");
    expect(result.stdout).toContain("notification.notifications: would clear 0 (bodies of sent e-mails older than 30d)");
    expect(result.stdout).toContain("nothing was changed");
    expect(await kept(id)).toBe(true);
  });

  test("when run, then it deletes what expired and prints per table how much", async () => {
    const id = await oldInboxRecord();
    const result = await runCli(["prune"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^notification\.inbox: deleted [1-9]\d* \(processed message ids older than 30d\)$/m);
    expect(result.stdout).toContain("orders.outbox: deleted");
    expect(result.stdout).toContain("orders.idempotency_keys: deleted 0 (Idempotency-Keys older than 1d)");
    expect(await kept(id)).toBe(false);
  });

  test("when another instance is sweeping a module, then prune says so, skips that module and exits 1", async () => {
    const id = await oldInboxRecord();
    const holder = await sql("notification").reserve();
    try {
      // What a sweeper of another instance holds while it sweeps notification.
      await holder`select pg_advisory_lock(${RETENTION_LOCK}, hashtext('notification'))`;
      const result = await runCli(["prune"], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("notification: skipped, another instance is sweeping it right now");
      expect(result.stdout).toContain("orders.inbox: deleted");
      expect(await kept(id)).toBe(true);
    } finally {
      await holder`select pg_advisory_unlock(${RETENTION_LOCK}, hashtext('notification'))`;
      holder.release();
    }
  });

  test("when given an unknown option, then it says how to call it and exits 2", async () => {
    const result = await runCli(["prune", "--force"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: shop prune [--dry-run]");
  });
});

describe("shop mail retry", () => {
  /** An order whose confirmation e-mail the SMTP server refused until the shop gave up on it; returns the e-mail's id. */
  async function failedConfirmation(): Promise<{ orderId: string; notificationId: string }> {
    smtp.refuse("mailbox unavailable");
    try {
      const { orderId } = await confirmedOrder();
      const [row] = await eventually(() => sql("notification")<{ id: string; status: string }[]>`select id, status from notification.notifications where order_id = ${orderId}`, {
        accept: (rows) => rows[0]?.status === "failed",
        what: "the confirmation e-mail to be given up on",
      });
      return { orderId, notificationId: row!.id };
    } finally {
      smtp.accept();
    }
  }

  const delivered = (orderId: string) => smtp.received.filter((m) => subjectOf(m.raw) === `Your order ${orderId} is confirmed`).length;

  test("when an e-mail failed because SMTP refused it, then check lists it as information and mail retry gets it delivered", async () => {
    const { orderId, notificationId } = await failedConfirmation();

    const checked = await runCli(["check", "--settle", "0s"], env);
    expect(checked.stdout).toMatch(/info {2}notification: \d+ failed e-mail\(s\) \(shop mail retry\); oldest /);
    expect(checked.stdout).toContain("mailbox unavailable");
    expect(checked.code).toBe(0);

    const retry = await runCli(["mail", "retry", "--id", notificationId], env);
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout.trim())).toMatchObject({ retried: notificationId, orderId, template: "order-confirmed", to: alice.email });
    expect(retry.stderr).toContain("1 failed e-mail(s) put back to pending");

    await eventually(() => delivered(orderId), { accept: (n) => n === 1, what: "the retried e-mail at the SMTP server" });
    const [row] = await eventually(() => sql("notification")<{ status: string; attempts: number }[]>`select status, attempts from notification.notifications where id = ${notificationId}`, {
      accept: (rows) => rows[0]?.status === "sent",
      what: "the retried e-mail marked sent",
    });
    expect(row!.attempts).toBe(1);
    const after = await runCli(["check", "--settle", "0s"], env);
    expect(after.stdout).not.toContain(notificationId);
  });

  test("when retry is run without ids, then every failed e-mail is sent", async () => {
    const first = await failedConfirmation();
    const second = await failedConfirmation();

    const retry = await runCli(["mail", "retry"], env);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain(first.notificationId);
    expect(retry.stdout).toContain(second.notificationId);

    await eventually(() => delivered(first.orderId) + delivered(second.orderId), { accept: (n) => n === 2, what: "both e-mails at the SMTP server" });
    expect(await sql("notification")`select 1 from notification.notifications where status = 'failed'`).toHaveLength(0);
  });

  test("when an id is not a failed e-mail, then it is left alone and retry says so and exits 1; a malformed id exits 2", async () => {
    const { orderId } = await confirmedOrder();
    const [sent] = await eventually(() => sql("notification")<{ id: string; status: string }[]>`select id, status from notification.notifications where order_id = ${orderId}`, {
      accept: (rows) => rows[0]?.status === "sent",
      what: "the confirmation e-mail sent",
    });
    const unknown = crypto.randomUUID();

    const retry = await runCli(["mail", "retry", "--id", sent!.id, "--id", unknown], env);
    expect(retry.code).toBe(1);
    expect(retry.stderr).toContain(`${sent!.id}: not failed (sent), left alone`);
    expect(retry.stderr).toContain(`${unknown}: no such e-mail`);
    expect(delivered(orderId)).toBe(1);

    const malformed = await runCli(["mail", "retry", "--id", "42"], env);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('not an e-mail id (a UUID, as GET /notifications shows it): "42"');
    expect((await runCli(["mail", "resend"], env)).code).toBe(2);
  });
});
