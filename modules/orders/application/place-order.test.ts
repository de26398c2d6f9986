import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../../src/platform/db.ts";
import { InvalidError } from "../../../src/platform/errors.ts";
import { checkData } from "../../../src/platform/messaging/envelope.ts";
import { createOutbox, type Outbox } from "../../../src/platform/messaging/outbox.ts";
import { createTestDatabase, type TestDatabase } from "../../../src/test-support/database.ts";
import { OrderPlaced } from "../contract.ts";
import { catalogRepository } from "../infrastructure/catalog-repository.ts";
import { migrationsFolder } from "../infrastructure/migrations.ts";
import { orderRepository } from "../infrastructure/order-repository.ts";
import { orders, outbox } from "../infrastructure/schema.ts";
import type { OrdersDeps } from "../ports.ts";
import { placeOrder } from "./place-order.ts";
import { ordersMetrics } from "../infrastructure/orders-metrics.ts";
import { testModuleMetrics } from "../../../src/test-support/metrics.ts";

let testDb: TestDatabase;
let database: DatabaseHandle;
let deps: Pick<OrdersDeps, "db" | "orders" | "catalog" | "outbox" | "metrics">;

beforeAll(async () => {
  testDb = await createTestDatabase("orders_place");
  database = openDatabase(testDb.url);
  await migrateModule(database, "orders", migrationsFolder);
  deps = { db: database.db, orders: orderRepository, catalog: catalogRepository, outbox: createOutbox(outbox, "orders"), metrics: ordersMetrics(testModuleMetrics("orders")) };
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const unique = () => crypto.randomUUID().slice(0, 8).toUpperCase();

async function product(priceCents: number, extra: { currency?: string; active?: boolean } = {}) {
  const sku = `SKU-${unique()}`;
  await catalogRepository.upsert(
    database.db,
    { sku, name: `Product ${sku}`, priceCents, currency: extra.currency ?? "EUR", active: extra.active ?? true },
    new Date(),
  );
  return sku;
}

function customer() {
  const id = `customer-${unique()}`;
  return { id, email: `${id}@example.com` };
}

async function eventsFor(orderId: string) {
  return database.db.select().from(outbox).where(sql`${outbox.envelope}->'data'->>'orderId' = ${orderId}`);
}

async function ordersOf(customerId: string) {
  return database.db.select().from(orders).where(eq(orders.customerId, customerId));
}

describe("placeOrder", () => {
  test("when every sku is in the catalog, then the order is pending, priced from the catalog, and its event is in the outbox", async () => {
    const [mug, tee] = [await product(1299), await product(2500)];
    const buyer = customer();

    const order = await placeOrder(deps, {
      customer: buyer,
      items: [
        { sku: mug, quantity: 3 },
        { sku: tee, quantity: 1 },
      ],
      correlationId: "corr-place-1",
    });

    expect(order).toMatchObject({ status: "pending", version: 1, customerId: buyer.id, totalCents: 3 * 1299 + 2500, currency: "EUR" });
    const stored = await orderRepository.findById(database.db, order.id);
    expect(stored).toEqual(order);
    expect(stored?.lines.map((l) => [l.lineNo, l.sku, l.unitPriceCents, l.lineTotalCents])).toEqual([
      [1, mug, 1299, 3897],
      [2, tee, 2500, 2500],
    ]);
    expect(stored?.history).toEqual([{ status: "pending", at: order.createdAt, reason: null }]);

    const events = await eventsFor(order.id);
    expect(events).toHaveLength(1);
    const envelope = events[0]!.envelope;
    expect(envelope).toMatchObject({ name: OrderPlaced.name, version: 1, source: "orders", correlationId: "corr-place-1" });
    expect(checkData(OrderPlaced, envelope.data)).toBeUndefined();
    expect(envelope.data).toEqual({
      orderId: order.id,
      customerId: buyer.id,
      customerEmail: buyer.email,
      items: [
        { sku: mug, name: `Product ${mug}`, quantity: 3, unitPriceCents: 1299, lineTotalCents: 3897 },
        { sku: tee, name: `Product ${tee}`, quantity: 1, unitPriceCents: 2500, lineTotalCents: 2500 },
      ],
      totalCents: 6397,
      currency: "EUR",
      version: 1,
    });
  });

  test("when writing the order fails, then its event is not kept either", async () => {
    const sku = await product(100);
    const buyer = customer();
    let written: string | undefined;
    const recordingOutbox: Outbox = {
      ...deps.outbox,
      insertWith(envelope, writes) {
        written = envelope.id;
        return deps.outbox.insertWith(envelope, writes);
      },
    };
    // The order's write breaks a constraint; the event is written by the same statement.
    const failingOrders = {
      ...orderRepository,
      insertWrites: () => ({ ctes: "new_order as (insert into orders.orders (id) values ($1) returning id)", params: [Bun.randomUUIDv7()] }),
    };

    await expect(
      placeOrder({ ...deps, outbox: recordingOutbox, orders: failingOrders }, { customer: buyer, items: [{ sku, quantity: 1 }], correlationId: "c" }),
    ).rejects.toThrow("null value");

    expect(written).toBeDefined();
    expect(await database.db.select().from(outbox).where(eq(outbox.id, written!))).toEqual([]);
    expect(await ordersOf(buyer.id)).toEqual([]);
  });

  test("when it runs inside a caller's transaction that rolls back, then no order and no event remain", async () => {
    const sku = await product(100);
    const buyer = customer();
    let orderId = "";
    await expect(
      database.db.transaction(async (tx) => {
        orderId = (await placeOrder({ ...deps, db: tx }, { customer: buyer, items: [{ sku, quantity: 1 }], correlationId: "c" })).id;
        tx.rollback();
      }),
    ).rejects.toThrow();
    expect(orderId).not.toBe("");
    expect(await ordersOf(buyer.id)).toEqual([]);
    expect(await eventsFor(orderId)).toEqual([]);
  });

  test("when a sku is unknown or inactive, then ORDERS.UNKNOWN_SKU names them and nothing is stored", async () => {
    const known = await product(100);
    const retired = await product(100, { active: false });
    const buyer = customer();

    const error = await placeOrder(deps, {
      customer: buyer,
      items: [
        { sku: known, quantity: 1 },
        { sku: "NO-SUCH-SKU", quantity: 1 },
        { sku: retired, quantity: 2 },
      ],
      correlationId: "c",
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidError);
    expect(error).toMatchObject({ code: "ORDERS.UNKNOWN_SKU", details: { skus: ["NO-SUCH-SKU", retired] } });
    expect(await ordersOf(buyer.id)).toEqual([]);
  });

  test("when the price changes after placement, then the placed order keeps its price and a new order gets the new one", async () => {
    const sku = await product(1000);
    const buyer = customer();
    const first = await placeOrder(deps, { customer: buyer, items: [{ sku, quantity: 2 }], correlationId: "c" });

    await catalogRepository.upsert(database.db, { sku, name: "Renamed", priceCents: 1500, currency: "EUR", active: true }, new Date(Date.now() + 1000));
    const second = await placeOrder(deps, { customer: buyer, items: [{ sku, quantity: 2 }], correlationId: "c" });

    const reread = await orderRepository.findById(database.db, first.id);
    expect(reread?.totalCents).toBe(2000);
    expect(reread?.lines[0]).toMatchObject({ name: `Product ${sku}`, unitPriceCents: 1000, lineTotalCents: 2000 });
    expect(second.totalCents).toBe(3000);
    expect(second.lines[0]).toMatchObject({ name: "Renamed", unitPriceCents: 1500 });
  });

  test("when items come in two currencies, then ORDERS.MIXED_CURRENCY", async () => {
    const [eur, usd] = [await product(100), await product(100, { currency: "USD" })];
    const error = await placeOrder(deps, {
      customer: customer(),
      items: [
        { sku: eur, quantity: 1 },
        { sku: usd, quantity: 1 },
      ],
      correlationId: "c",
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ORDERS.MIXED_CURRENCY" });
  });
});
