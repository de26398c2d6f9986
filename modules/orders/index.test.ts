import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../src/platform/db.ts";
import { NotFoundError } from "../../src/platform/errors.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { applyEvent, applyEvents } from "../../src/platform/messaging/apply-event.ts";
import { checkData, createEnvelope } from "../../src/platform/messaging/envelope.ts";
import type { EventData, EventDefinition } from "../../src/platform/messaging/event.ts";
import { createOutbox } from "../../src/platform/messaging/outbox.ts";
import type { ShopModule } from "../../src/platform/module.ts";
import { createTestDatabase, type TestDatabase } from "../../src/test-support/database.ts";
import { ProductUpserted, StockRejected, StockReserved } from "../inventory/contract.ts";
import { applyStatusChange } from "./application/apply-status-change.ts";
import { placeOrder } from "./application/place-order.ts";
import { OrderConfirmed, OrderRejected } from "./contract.ts";
import { ordersModule } from "./index.ts";
import { catalogRepository } from "./infrastructure/catalog-repository.ts";
import { orderRepository } from "./infrastructure/order-repository.ts";
import { catalog, inbox, outbox } from "./infrastructure/schema.ts";
import { ordersMetrics } from "./infrastructure/orders-metrics.ts";
import { testModuleMetrics } from "../../src/test-support/metrics.ts";
import { createAuthenticator } from "../../src/platform/http/authenticator.ts";

let testDb: TestDatabase;
let database: DatabaseHandle;
let module: ShopModule;
const outboxWriter = createOutbox(outbox, "orders");

beforeAll(async () => {
  testDb = await createTestDatabase("orders_handlers");
  database = openDatabase(testDb.url);
  module = ordersModule.create({ database, logger: createLogger("silent"), authenticator: createAuthenticator({ secret: "s".repeat(32) }), metrics: testModuleMetrics("orders") });
  await migrateModule(database, module.name, module.migrationsFolder);
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const unique = () => crypto.randomUUID().slice(0, 8).toUpperCase();

/** Runs the module's handler for `event` the way the consumer does: in a transaction, emitting into the real outbox. */
async function deliver<E extends EventDefinition>(event: E, data: EventData<E>, occurredAt?: Date) {
  const envelope = createEnvelope(event, data, "inventory", { correlationId: `corr-${unique()}` });
  if (occurredAt) envelope.occurredAt = occurredAt.toISOString();
  const handler = module.handlers.find((h) => h.event.name === event.name);
  if (!handler) throw new Error(`orders has no handler for ${event.name}`);
  await applyEvent({ module: "orders", database, inbox, outbox: outboxWriter }, handler, envelope);
  return envelope;
}

async function productInCatalog(priceCents = 500) {
  const sku = `SKU-${unique()}`;
  await deliver(ProductUpserted, { sku, name: `Product ${sku}`, priceCents, currency: "EUR", active: true });
  return sku;
}

async function pendingOrder(lines: { sku: string; quantity: number }[]) {
  const id = `customer-${unique()}`;
  return placeOrder(
    { db: database.db, orders: orderRepository, catalog: catalogRepository, outbox: outboxWriter, metrics: ordersMetrics(testModuleMetrics("orders")) },
    { customer: { id, email: `${id}@example.com` }, items: lines, correlationId: "corr-placed" },
  );
}

async function eventsFor(orderId: string, name: string) {
  return database.db
    .select()
    .from(outbox)
    .where(sql`${outbox.name} = ${name} and ${outbox.envelope}->'data'->>'orderId' = ${orderId}`);
}

describe("orders module", () => {
  test("when it is defined, then it consumes exactly the events it has handlers for", () => {
    expect(ordersModule.consumes.map((e) => e.name).sort()).toEqual(module.handlers.map((h) => h.event.name).sort());
  });
});

describe("inventory.product-upserted", () => {
  test("when a product is upserted, then the local catalog copy holds its name, price, currency and active flag", async () => {
    const sku = `SKU-${unique()}`;
    await deliver(ProductUpserted, { sku, name: "Mug", priceCents: 1299, currency: "EUR", active: true });
    await deliver(ProductUpserted, { sku, name: "Mug (old)", priceCents: 999, currency: "EUR", active: false });
    const [row] = await database.db.select().from(catalog).where(eq(catalog.sku, sku));
    expect(row).toMatchObject({ sku, name: "Mug (old)", priceCents: 999, currency: "EUR", active: false });
  });

  test("when an older update arrives after a newer one, then the newer price stays", async () => {
    const sku = `SKU-${unique()}`;
    const now = Date.now();
    await deliver(ProductUpserted, { sku, name: "Tee", priceCents: 2500, currency: "EUR", active: true }, new Date(now));
    await deliver(ProductUpserted, { sku, name: "Tee", priceCents: 2000, currency: "EUR", active: true }, new Date(now - 60_000));
    const [row] = await database.db.select().from(catalog).where(eq(catalog.sku, sku));
    expect(row?.priceCents).toBe(2500);
  });

  test("when two changes made in the same millisecond arrive out of order, then inventory's higher version wins", async () => {
    const sku = `SKU-${unique()}`;
    const at = new Date();
    await deliver(ProductUpserted, { sku, name: "Tee", priceCents: 3100, currency: "EUR", active: true, version: 3 }, at);
    await deliver(ProductUpserted, { sku, name: "Tee", priceCents: 2900, currency: "EUR", active: true, version: 2 }, at);
    const [row] = await database.db.select().from(catalog).where(eq(catalog.sku, sku));
    expect(row).toMatchObject({ priceCents: 3100, version: 3 });
  });
});

describe("inventory.stock-reserved", () => {
  test("when stock is reserved for a pending order, then it is confirmed and orders.order-confirmed carries its snapshot", async () => {
    const sku = await productInCatalog(700);
    const order = await pendingOrder([{ sku, quantity: 2 }]);

    const reserved = await deliver(StockReserved, { orderId: order.id, items: [{ sku, quantity: 2 }] });

    const confirmed = await orderRepository.findById(database.db, order.id);
    expect(confirmed).toMatchObject({ status: "confirmed", statusReason: null, version: 2 });
    expect(confirmed?.history.map((h) => h.status)).toEqual(["pending", "confirmed"]);
    const events = await eventsFor(order.id, OrderConfirmed.name);
    expect(events).toHaveLength(1);
    const envelope = events[0]!.envelope;
    expect(envelope).toMatchObject({ correlationId: reserved.correlationId, causationId: reserved.id, source: "orders" });
    expect(checkData(OrderConfirmed, envelope.data)).toBeUndefined();
    expect(envelope.data).toMatchObject({ orderId: order.id, customerId: order.customerId, totalCents: 1400, currency: "EUR", version: 2 });
  });

  test("when the order is no longer pending, then nothing changes and no event is emitted", async () => {
    const sku = await productInCatalog();
    const order = await pendingOrder([{ sku, quantity: 1 }]);
    await database.db.transaction((tx) => applyStatusChange({ orders: orderRepository }, tx, { orderId: order.id, to: "cancelled", reason: "changed my mind" }));

    await deliver(StockReserved, { orderId: order.id, items: [{ sku, quantity: 1 }] });
    await deliver(StockRejected, { orderId: order.id, shortages: [{ sku, requested: 1, available: 0 }] });

    const after = await orderRepository.findById(database.db, order.id);
    expect(after).toMatchObject({ status: "cancelled", statusReason: "changed my mind", version: 2 });
    expect(await eventsFor(order.id, OrderConfirmed.name)).toEqual([]);
    expect(await eventsFor(order.id, OrderRejected.name)).toEqual([]);
  });

  test("when the same reservation is applied twice, then the second is a no-op", async () => {
    const sku = await productInCatalog();
    const order = await pendingOrder([{ sku, quantity: 1 }]);
    await deliver(StockReserved, { orderId: order.id, items: [{ sku, quantity: 1 }] });
    await deliver(StockReserved, { orderId: order.id, items: [{ sku, quantity: 1 }] });
    expect((await orderRepository.findById(database.db, order.id))?.version).toBe(2);
    expect(await eventsFor(order.id, OrderConfirmed.name)).toHaveLength(1);
  });

  test("when the order does not exist, then the handler fails (so the message is retried, then parked)", async () => {
    const error = await deliver(StockReserved, { orderId: Bun.randomUUIDv7(), items: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
  });
});

describe("inventory's answers in one batch", () => {
  test("when reservations and rejections for several orders arrive together, then each order moves once, in order, with its own event and cause", async () => {
    const sku = await productInCatalog(300);
    const [first, second, third, gone] = [
      await pendingOrder([{ sku, quantity: 1 }]),
      await pendingOrder([{ sku, quantity: 2 }]),
      await pendingOrder([{ sku, quantity: 3 }]),
      await pendingOrder([{ sku, quantity: 4 }]),
    ];
    await database.db.transaction((tx) => applyStatusChange({ orders: orderRepository }, tx, { orderId: gone.id, to: "cancelled" }));
    const envelopeOf = <E extends EventDefinition>(event: E, data: EventData<E>) =>
      createEnvelope(event, data, "inventory", { correlationId: `corr-${unique()}` });
    const batch = [
      envelopeOf(StockReserved, { orderId: first.id, items: [{ sku, quantity: 1 }] }),
      envelopeOf(StockReserved, { orderId: second.id, items: [{ sku, quantity: 2 }] }),
      envelopeOf(StockReserved, { orderId: gone.id, items: [{ sku, quantity: 4 }] }),
      envelopeOf(StockReserved, { orderId: first.id, items: [{ sku, quantity: 1 }] }),
      envelopeOf(StockRejected, { orderId: third.id, shortages: [{ sku, requested: 3, available: 0 }] }),
    ];
    const handlerOf = (name: string) => module.handlers.find((h) => h.event.name === name)!;

    const applied = await applyEvents(
      { module: "orders", database, inbox, outbox: outboxWriter },
      batch.map((envelope) => ({ handler: handlerOf(envelope.name), envelope })),
    );

    expect(applied).toEqual([true, true, true, true, true]);
    for (const [order, status] of [[first, "confirmed"], [second, "confirmed"], [third, "rejected"], [gone, "cancelled"]] as const) {
      const stored = await orderRepository.findById(database.db, order.id);
      expect({ id: order.id, status: stored?.status, version: stored?.version, history: stored?.history.map((h) => h.status) }).toEqual({
        id: order.id,
        status,
        version: 2,
        history: ["pending", status],
      });
    }
    const confirmations = await eventsFor(first.id, OrderConfirmed.name);
    expect(confirmations.map((e) => e.envelope.causationId)).toEqual([batch[0]!.id]);
    expect((await eventsFor(second.id, OrderConfirmed.name)).map((e) => e.envelope.causationId)).toEqual([batch[1]!.id]);
    expect((await eventsFor(third.id, OrderRejected.name)).map((e) => e.envelope.causationId)).toEqual([batch[4]!.id]);
    expect(await eventsFor(gone.id, OrderConfirmed.name)).toEqual([]);
  });
});

describe("inventory.stock-rejected", () => {
  test("when stock is short, then the order is rejected with a reason naming each shortage and orders.order-rejected says why", async () => {
    const [a, b] = [await productInCatalog(), await productInCatalog()];
    const order = await pendingOrder([
      { sku: a, quantity: 3 },
      { sku: b, quantity: 2 },
    ]);
    const shortages = [
      { sku: a, requested: 3, available: 1 },
      { sku: b, requested: 2, available: 0 },
    ];

    await deliver(StockRejected, { orderId: order.id, shortages });

    const reason = `insufficient stock: ${a} (requested 3, available 1), ${b} (requested 2, available 0)`;
    const rejected = await orderRepository.findById(database.db, order.id);
    expect(rejected).toMatchObject({ status: "rejected", statusReason: reason, version: 2 });
    expect(rejected?.history.at(-1)).toMatchObject({ status: "rejected", reason });
    const events = await eventsFor(order.id, OrderRejected.name);
    expect(events).toHaveLength(1);
    expect(checkData(OrderRejected, events[0]!.envelope.data)).toBeUndefined();
    expect(events[0]!.envelope.data).toMatchObject({ orderId: order.id, reason, shortages, totalCents: order.totalCents, version: 2 });
  });
});
