import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { ProductUpserted } from "../modules/inventory/contract.ts";
import { MODULE_NAMES } from "./config.ts";
import { createEnvelope } from "./platform/messaging/envelope.ts";
import { DEAD_LETTER_REASON_HEADER } from "./platform/messaging/consumer.ts";
import { topologyNames } from "./platform/messaging/topology.ts";
import { deleteBrokerObjects, drainQueue, publishRaw, testPrefix } from "./test-support/broker.ts";
import { createTestDatabase, type TestDatabase } from "./test-support/database.ts";
import { eventually } from "./test-support/eventually.ts";
import { httpRequest, spawnShop, stopAllProcesses, type ShopProcess } from "./test-support/process.ts";
import { admin, TEST_RETRY_DELAYS_MS, testEnv } from "./test-support/shop.ts";

// Retention inside a running `serve` process: its sweeper deletes on its own and says so in the logs, and its
// consumers refuse an event too old for the inbox to still recognise a duplicate of it.
let database: TestDatabase;
let prefix: string;
let shop: ShopProcess;
let sql: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase("retention_shop");
  prefix = testPrefix("retention");
  shop = await spawnShop(testEnv(database, prefix, { LOG_LEVEL: "info", RETENTION_INTERVAL: "1s", OUTBOX_RETENTION: "1s" }));
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await stopAllProcesses();
  await sql?.end();
  await database?.drop();
  if (prefix) await deleteBrokerObjects(prefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS);
});

/** pino's JSON lines in the process's stdout. */
const logEntries = () =>
  shop.stdout().split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

describe("the retention sweeper of a running shop", () => {
  test("when rows expire, then the sweeper deletes them on its own and logs per table what it deleted", async () => {
    const old = Bun.randomUUIDv7();
    await sql`insert into orders.inbox (message_id, handler, processed_at) values (${old}, 'test', now() - interval '40 days')`;
    const sku = `KEEP-${crypto.randomUUID().slice(0, 8)}`;
    const put = await httpRequest(shop.baseUrl, `/products/${sku}`, { method: "PUT", as: admin, json: { name: sku, priceCents: 100, stock: 1 } });
    expect(put.status).toBe(201);

    // inventory's product-upserted event is sent at once, then deleted one second (OUTBOX_RETENTION) after.
    await eventually(async () => (await sql`select count(*)::int as n from inventory.outbox`)[0]!.n, {
      accept: (n) => n === 0,
      timeoutMs: 20_000,
      what: "inventory's sent event to be deleted",
    });
    await eventually(async () => (await sql`select 1 from orders.inbox where message_id = ${old}`).length, {
      accept: (n) => n === 0,
      what: "the expired inbox record to be deleted",
    });
    const deleted = await eventually(() => logEntries().filter((e) => typeof e.msg === "string" && e.msg.startsWith("retention: deleted")), {
      accept: (entries) => ["inventory.outbox", "orders.inbox"].every((table) => entries.some((e) => e.table === table)),
      what: "the sweeper's log lines",
    });
    expect(deleted.find((e) => e.table === "orders.inbox")).toMatchObject({ level: 30, module: "orders", deleted: 1, batches: 1 });
    expect(deleted.find((e) => e.table === "inventory.outbox")).toMatchObject({ level: 30, module: "inventory", what: "sent events older than 1s" });
    // A sweep that found nothing says nothing at info.
    expect(logEntries().some((e) => typeof e.msg === "string" && e.msg.startsWith("retention: nothing"))).toBe(false);
  });

  test("when an event is older than the inbox retention, then the consumer parks it with the reason instead of applying it", async () => {
    const names = topologyNames(prefix);
    const data = (sku: string) => ({ sku, name: sku, priceCents: 900, currency: "EUR", active: true });
    const [staleSku, freshSku] = [`STALE-${crypto.randomUUID().slice(0, 8)}`, `FRESH-${crypto.randomUUID().slice(0, 8)}`];
    const stale = createEnvelope(ProductUpserted, data(staleSku), "inventory", { correlationId: "stale" });
    stale.occurredAt = new Date(Date.now() - 31 * 24 * 3_600_000).toISOString();
    const fresh = createEnvelope(ProductUpserted, data(freshSku), "inventory", { correlationId: "fresh" });
    for (const envelope of [stale, fresh]) {
      await publishRaw(names.events, envelope.name, JSON.stringify(envelope), { messageId: envelope.id, type: envelope.name });
    }

    const parked = await eventually(() => drainQueue(names.dlq("orders")), { accept: (messages) => messages.length > 0, what: "the stale event in the DLQ" });
    expect(parked.map((m) => JSON.parse(m.body).id)).toEqual([stale.id]);
    expect(String(parked[0]!.headers[DEAD_LETTER_REASON_HEADER])).toContain("beyond the inbox retention (720 h) less 1 h");
    await eventually(async () => (await sql`select 1 from orders.catalog where sku = ${freshSku}`).length, { what: "the fresh event to be applied" });
    expect(await sql`select 1 from orders.catalog where sku = ${staleSku}`).toHaveLength(0);
  });

  test("when the shop is stopped, then the sweeper stops with it and the process exits 0", async () => {
    expect(await shop.stop("SIGTERM")).toBe(0);
    expect(shop.stdout()).toContain('"msg":"stopped"');
  });
});
