import { afterAll, beforeAll, expect, test } from "bun:test";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../../src/platform/db.ts";
import { ConflictError, DomainError, RetryLaterError } from "../../../src/platform/errors.ts";
import { createOutbox } from "../../../src/platform/messaging/outbox.ts";
import { createTestDatabase, type TestDatabase } from "../../../src/test-support/database.ts";
import { eventually } from "../../../src/test-support/eventually.ts";
import { catalogRepository } from "../infrastructure/catalog-repository.ts";
import { migrationsFolder } from "../infrastructure/migrations.ts";
import { orderRepository } from "../infrastructure/order-repository.ts";
import { outbox } from "../infrastructure/schema.ts";
import { applyStatusChange, applyStatusChanges } from "./apply-status-change.ts";
import { placeOrder } from "./place-order.ts";
import { ordersMetrics } from "../infrastructure/orders-metrics.ts";
import { testModuleMetrics } from "../../../src/test-support/metrics.ts";

let testDb: TestDatabase;
let database: DatabaseHandle;

beforeAll(async () => {
  testDb = await createTestDatabase("orders_status");
  database = openDatabase(testDb.url);
  await migrateModule(database, "orders", migrationsFolder);
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

async function pendingOrder() {
  const sku = `SKU-${crypto.randomUUID().slice(0, 8)}`;
  await catalogRepository.upsert(database.db, { sku, name: "Thing", priceCents: 100, currency: "EUR", active: true }, new Date());
  const deps = { db: database.db, orders: orderRepository, catalog: catalogRepository, outbox: createOutbox(outbox, "orders"), metrics: ordersMetrics(testModuleMetrics("orders")) };
  return placeOrder(deps, { customer: { id: "c1", email: "c1@example.com" }, items: [{ sku, quantity: 1 }], correlationId: "c" });
}

const deps = { orders: orderRepository };

test("when a transition is allowed, then status, version and history are saved", async () => {
  const order = await pendingOrder();
  const outcome = await database.db.transaction((tx) => applyStatusChange(deps, tx, { orderId: order.id, to: "confirmed" }));
  expect(outcome).toMatchObject({ changed: true, order: { status: "confirmed", version: 2 } });
  const stored = await orderRepository.findById(database.db, order.id);
  expect(stored).toEqual(outcome.order);
});

test("when the lifecycle forbids the transition, then nothing is written", async () => {
  const order = await pendingOrder();
  const outcome = await database.db.transaction((tx) => applyStatusChange(deps, tx, { orderId: order.id, to: "shipped" }));
  expect(outcome).toMatchObject({ changed: false, order: { status: "pending", version: 1 } });
  expect(await orderRepository.findById(database.db, order.id)).toEqual(order);
});

test("when the order changed since it was read, then the stale write is refused", async () => {
  const order = await pendingOrder();
  await database.db.transaction((tx) => applyStatusChange(deps, tx, { orderId: order.id, to: "cancelled" }));
  const staleNext = { ...order, status: "confirmed" as const, version: 2 };
  const saved = await orderRepository.saveTransition(database.db, order, staleNext, { status: "confirmed", at: new Date(), reason: null });
  expect(saved).toBe(false);
  expect((await orderRepository.findById(database.db, order.id))?.status).toBe("cancelled");
});

test("when two transitions race on the same order, then one wins and the other gets ORDERS.CONCURRENT_UPDATE", async () => {
  const order = await pendingOrder();
  let releaseFirst!: () => void;
  const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
  let firstChanged!: () => void;
  const firstHasChanged = new Promise<void>((resolve) => (firstChanged = resolve));

  // The first transaction confirms and holds its row lock until told to commit.
  const first = database.db.transaction(async (tx) => {
    const outcome = await applyStatusChange(deps, tx, { orderId: order.id, to: "confirmed" });
    firstChanged();
    await firstMayCommit;
    return outcome;
  });
  await firstHasChanged;
  // The second read the order as pending v1 (the first has not committed); its update waits for the lock.
  const second = database.db
    .transaction((tx) => applyStatusChange(deps, tx, { orderId: order.id, to: "cancelled" }))
    .catch((error: unknown) => error);
  await eventually(
    async () => {
      const [row] = await database.sql`select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      return row?.waiting as number;
    },
    { accept: (waiting) => waiting > 0, what: "the second transaction to wait for the row lock" },
  );
  releaseFirst();

  expect(await first).toMatchObject({ changed: true });
  const error = await second;
  expect(error).toBeInstanceOf(ConflictError);
  expect(error).toMatchObject({ code: "ORDERS.CONCURRENT_UPDATE" });
  expect(await orderRepository.findById(database.db, order.id)).toMatchObject({ status: "confirmed", version: 2 });
});

test("when a batch of answers races a transition, then the batch gets RetryLaterError ORDERS.CONCURRENT_UPDATE and writes nothing", async () => {
  const [order, other] = [await pendingOrder(), await pendingOrder()];
  let releaseFirst!: () => void;
  const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
  let firstChanged!: () => void;
  const firstHasChanged = new Promise<void>((resolve) => (firstChanged = resolve));

  const first = database.db.transaction(async (tx) => {
    const outcome = await applyStatusChange(deps, tx, { orderId: order.id, to: "cancelled" });
    firstChanged();
    await firstMayCommit;
    return outcome;
  });
  await firstHasChanged;
  // The batch read both orders as pending v1; its conditional write waits for the first one's row lock.
  const batch = database.db
    .transaction((tx) => applyStatusChanges(deps, tx, [{ orderId: other.id, to: "confirmed" }, { orderId: order.id, to: "confirmed" }]))
    .catch((error: unknown) => error);
  await eventually(
    async () => {
      const [row] = await database.sql`select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      return row?.waiting as number;
    },
    { accept: (waiting) => waiting > 0, what: "the batch to wait for the row lock" },
  );
  releaseFirst();

  expect(await first).toMatchObject({ changed: true });
  const error = await batch;
  // A handler's "try again later", not a refusal that could ever reach a client as a 4xx.
  expect(error).toBeInstanceOf(RetryLaterError);
  expect(error).not.toBeInstanceOf(DomainError);
  expect(error).toMatchObject({ code: "ORDERS.CONCURRENT_UPDATE" });
  expect(await orderRepository.findById(database.db, other.id)).toMatchObject({ status: "pending", version: 1 });
  expect(await orderRepository.findById(database.db, order.id)).toMatchObject({ status: "cancelled", version: 2 });
});
