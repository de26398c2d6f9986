import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../../../src/test-support/database.ts";
import { OrderCancelled, OrderPlaced } from "../../orders/contract.ts";
import { StockRejected, StockReleased, StockReserved } from "../contract.ts";
import {
  deliver,
  deliverBatch,
  emitted,
  givenProduct,
  openInventory,
  placedOrder,
  reservationsOf,
  stockOf,
  type InventoryHarness,
} from "../test-support/inventory-harness.ts";

let testDatabase: TestDatabase;
let inventory: InventoryHarness;

beforeAll(async () => {
  testDatabase = await createTestDatabase("inventory_reserve");
  inventory = await openInventory(testDatabase.url);
});

afterAll(async () => {
  await inventory?.close();
  await testDatabase?.drop();
});

describe("reserving stock for a placed order", () => {
  test("when every line is available, then all are reserved, held and announced in sku order", async () => {
    const shirt = await givenProduct(inventory, { onHand: 10, sku: `B-${crypto.randomUUID()}` });
    const mug = await givenProduct(inventory, { onHand: 5, sku: `A-${crypto.randomUUID()}` });
    const order = placedOrder([
      { sku: shirt, quantity: 2 },
      { sku: mug, quantity: 1 },
      { sku: shirt, quantity: 1 },
    ]);

    await deliver(inventory, OrderPlaced, order);

    expect(await stockOf(inventory, shirt)).toEqual({ onHand: 10, reserved: 3 });
    expect(await stockOf(inventory, mug)).toEqual({ onHand: 5, reserved: 1 });
    expect(await reservationsOf(inventory, order.orderId)).toEqual([
      { sku: mug, quantity: 1, status: "held" },
      { sku: shirt, quantity: 3, status: "held" },
    ]);
    expect(await emitted(inventory, StockReserved, order.orderId)).toEqual([
      { orderId: order.orderId, items: [{ sku: mug, quantity: 1 }, { sku: shirt, quantity: 3 }] },
    ]);
    expect(await emitted(inventory, StockRejected, order.orderId)).toEqual([]);
  });

  test("when one line is short, then nothing is reserved and every short line is reported", async () => {
    const plenty = await givenProduct(inventory, { onHand: 10, sku: `A-${crypto.randomUUID()}` });
    const few = await givenProduct(inventory, { onHand: 3, reserved: 1, sku: `B-${crypto.randomUUID()}` });
    const retired = await givenProduct(inventory, { onHand: 9, active: false, sku: `C-${crypto.randomUUID()}` });
    const unknown = `D-${crypto.randomUUID()}`;
    const order = placedOrder([
      { sku: plenty, quantity: 4 },
      { sku: few, quantity: 3 },
      { sku: retired, quantity: 1 },
      { sku: unknown, quantity: 2 },
    ]);

    expect(await deliver(inventory, OrderPlaced, order)).toBe(true);

    expect(await stockOf(inventory, plenty)).toEqual({ onHand: 10, reserved: 0 });
    expect(await stockOf(inventory, few)).toEqual({ onHand: 3, reserved: 1 });
    expect(await reservationsOf(inventory, order.orderId)).toEqual([]);
    expect(await emitted(inventory, StockRejected, order.orderId)).toEqual([
      {
        orderId: order.orderId,
        shortages: [
          { sku: few, requested: 3, available: 2 },
          { sku: retired, requested: 1, available: 0 },
          { sku: unknown, requested: 2, available: 0 },
        ],
      },
    ]);
    expect(await emitted(inventory, StockReserved, order.orderId)).toEqual([]);
  });

  test("when a short line comes after reserved ones in sku order, then those are rolled back too", async () => {
    const first = await givenProduct(inventory, { onHand: 5, sku: `A-${crypto.randomUUID()}` });
    const last = await givenProduct(inventory, { onHand: 1, sku: `Z-${crypto.randomUUID()}` });
    const order = placedOrder([
      { sku: last, quantity: 2 },
      { sku: first, quantity: 5 },
    ]);

    await deliver(inventory, OrderPlaced, order);

    expect(await stockOf(inventory, first)).toEqual({ onHand: 5, reserved: 0 });
    expect(await emitted(inventory, StockRejected, order.orderId)).toEqual([
      { orderId: order.orderId, shortages: [{ sku: last, requested: 2, available: 1 }] },
    ]);
  });

  test("when a quantity is beyond what can ever be stocked, then the order is rejected, not retried", async () => {
    const sku = await givenProduct(inventory, { onHand: 5 });
    const order = placedOrder([{ sku, quantity: 3_000_000_000 }]);

    await deliver(inventory, OrderPlaced, order);

    expect(await emitted(inventory, StockRejected, order.orderId)).toEqual([
      { orderId: order.orderId, shortages: [{ sku, requested: 3_000_000_000, available: 5 }] },
    ]);
  });

  test("when the same message is delivered twice, then it reserves once", async () => {
    const sku = await givenProduct(inventory, { onHand: 5 });
    const order = placedOrder([{ sku, quantity: 2 }]);
    const messageId = Bun.randomUUIDv7();

    expect(await deliver(inventory, OrderPlaced, order, { messageId })).toBe(true);
    expect(await deliver(inventory, OrderPlaced, order, { messageId })).toBe(false);

    expect(await stockOf(inventory, sku)).toEqual({ onHand: 5, reserved: 2 });
    expect(await emitted(inventory, StockReserved, order.orderId)).toHaveLength(1);
  });

  test("when the same order is placed again under another message id, then nothing more is reserved", async () => {
    const sku = await givenProduct(inventory, { onHand: 5 });
    const order = placedOrder([{ sku, quantity: 2 }]);

    await deliver(inventory, OrderPlaced, order);
    await deliver(inventory, OrderPlaced, order);

    expect(await stockOf(inventory, sku)).toEqual({ onHand: 5, reserved: 2 });
    expect(await emitted(inventory, StockReserved, order.orderId)).toHaveLength(1);
  });

  test("when the cancel arrived before the placement, then the placement reserves nothing and answers nothing", async () => {
    const sku = await givenProduct(inventory, { onHand: 5 });
    const order = placedOrder([{ sku, quantity: 2 }]);

    await deliver(inventory, OrderCancelled, order);
    await deliver(inventory, OrderPlaced, order);

    expect(await stockOf(inventory, sku)).toEqual({ onHand: 5, reserved: 0 });
    expect(await reservationsOf(inventory, order.orderId)).toEqual([]);
    expect(await emitted(inventory, StockReleased, order.orderId)).toEqual([{ orderId: order.orderId, items: [] }]);
    expect(await emitted(inventory, StockReserved, order.orderId)).toEqual([]);
    expect(await emitted(inventory, StockRejected, order.orderId)).toEqual([]);
  });

  test("when cancel and placement race, then the order ends up holding nothing", async () => {
    const sku = await givenProduct(inventory, { onHand: 100 });
    const orders = Array.from({ length: 20 }, () => placedOrder([{ sku, quantity: 1 }]));

    await Promise.all(orders.flatMap((order) => [deliver(inventory, OrderPlaced, order), deliver(inventory, OrderCancelled, order)]));

    expect(await stockOf(inventory, sku)).toEqual({ onHand: 100, reserved: 0 });
    for (const order of orders) {
      const held = (await reservationsOf(inventory, order.orderId)).filter((r) => r.status === "held");
      expect(held).toEqual([]);
    }
  });
});

describe("reserving under concurrency", () => {
  test("when 40 orders of one unit race for 30 units, then exactly 30 are reserved and 10 rejected", async () => {
    const sku = await givenProduct(inventory, { onHand: 30 });
    const orders = Array.from({ length: 40 }, () => placedOrder([{ sku, quantity: 1 }]));

    const results = await Promise.all(orders.map((order) => deliver(inventory, OrderPlaced, order)));

    expect(results.every(Boolean)).toBe(true);
    const ids = new Set(orders.map((o) => o.orderId));
    const reserved = (await emitted(inventory, StockReserved)).filter((e) => ids.has(e.orderId));
    const rejected = (await emitted(inventory, StockRejected)).filter((e) => ids.has(e.orderId));
    expect(reserved).toHaveLength(30);
    expect(rejected).toHaveLength(10);
    for (const event of rejected) expect(event.shortages).toEqual([{ sku, requested: 1, available: 0 }]);
    expect(await stockOf(inventory, sku)).toEqual({ onHand: 30, reserved: 30 });
  });

  test("when orders lock the same skus listed in opposite orders, then none deadlocks and none oversells", async () => {
    const a = await givenProduct(inventory, { onHand: 10 });
    const b = await givenProduct(inventory, { onHand: 10 });
    const orders = Array.from({ length: 30 }, (_, i) =>
      placedOrder(i % 2 === 0 ? [{ sku: a, quantity: 1 }, { sku: b, quantity: 1 }] : [{ sku: b, quantity: 1 }, { sku: a, quantity: 1 }]),
    );

    await Promise.all(orders.map((order) => deliver(inventory, OrderPlaced, order)));

    const ids = new Set(orders.map((o) => o.orderId));
    expect((await emitted(inventory, StockReserved)).filter((e) => ids.has(e.orderId))).toHaveLength(10);
    expect(await stockOf(inventory, a)).toEqual({ onHand: 10, reserved: 10 });
    expect(await stockOf(inventory, b)).toEqual({ onHand: 10, reserved: 10 });
  });
});

describe("reserving stock for a batch of placements", () => {
  test("when several placements arrive in one batch, then each is decided in turn against the stock the ones before it left", async () => {
    const tee = await givenProduct(inventory, { onHand: 5 });
    const mug = await givenProduct(inventory, { onHand: 10 });
    const first = placedOrder([{ sku: tee, quantity: 2 }, { sku: mug, quantity: 1 }]);
    const second = placedOrder([{ sku: tee, quantity: 2 }]);
    const third = placedOrder([{ sku: tee, quantity: 2 }, { sku: mug, quantity: 1 }]);
    const fourth = placedOrder([{ sku: mug, quantity: 3 }]);

    const applied = await deliverBatch(inventory, [first, second, third, fourth].map((data) => ({ event: OrderPlaced, data })));

    expect(applied).toEqual([true, true, true, true]);
    expect(await stockOf(inventory, tee)).toEqual({ onHand: 5, reserved: 4 });
    expect(await stockOf(inventory, mug)).toEqual({ onHand: 10, reserved: 4 });
    expect(await reservationsOf(inventory, third.orderId)).toEqual([]);
    expect(await emitted(inventory, StockRejected, third.orderId)).toEqual([
      { orderId: third.orderId, shortages: [{ sku: tee, requested: 2, available: 1 }] },
    ]);
    for (const order of [first, second, fourth]) {
      expect((await emitted(inventory, StockReserved, order.orderId)).map((e) => e.orderId)).toEqual([order.orderId]);
    }
    expect(await reservationsOf(inventory, fourth.orderId)).toEqual([{ sku: mug, quantity: 3, status: "held" }]);
  });

  test("when a batch holds the same order placed twice, a repeated message and an order cancelled before, then each is reserved at most once", async () => {
    const tee = await givenProduct(inventory, { onHand: 10 });
    const twice = placedOrder([{ sku: tee, quantity: 1 }]);
    const repeated = placedOrder([{ sku: tee, quantity: 2 }]);
    const cancelledFirst = placedOrder([{ sku: tee, quantity: 4 }]);
    await deliver(inventory, OrderCancelled, cancelledFirst);
    const messageId = Bun.randomUUIDv7();

    const applied = await deliverBatch(inventory, [
      { event: OrderPlaced, data: twice },
      { event: OrderPlaced, data: repeated, messageId },
      { event: OrderPlaced, data: cancelledFirst },
      { event: OrderPlaced, data: twice },
      { event: OrderPlaced, data: repeated, messageId },
    ]);

    expect(applied).toEqual([true, true, true, true, false]);
    expect(await stockOf(inventory, tee)).toEqual({ onHand: 10, reserved: 3 });
    expect(await reservationsOf(inventory, cancelledFirst.orderId)).toEqual([]);
    expect(await emitted(inventory, StockReserved, twice.orderId)).toHaveLength(1);
    expect(await emitted(inventory, StockReserved, repeated.orderId)).toHaveLength(1);
    expect(await emitted(inventory, StockReserved, cancelledFirst.orderId)).toEqual([]);
  });

  test("when a batch mixes placements and cancels of the same orders, then they apply in delivery order", async () => {
    const tee = await givenProduct(inventory, { onHand: 6 });
    const kept = placedOrder([{ sku: tee, quantity: 2 }]);
    const withdrawn = placedOrder([{ sku: tee, quantity: 3 }]);
    const late = placedOrder([{ sku: tee, quantity: 3 }]);

    await deliverBatch(inventory, [
      { event: OrderPlaced, data: kept },
      { event: OrderPlaced, data: withdrawn },
      { event: OrderCancelled, data: withdrawn },
      { event: OrderPlaced, data: late },
    ]);

    expect(await stockOf(inventory, tee)).toEqual({ onHand: 6, reserved: 5 });
    expect(await reservationsOf(inventory, withdrawn.orderId)).toEqual([{ sku: tee, quantity: 3, status: "released" }]);
    expect(await emitted(inventory, StockReleased, withdrawn.orderId)).toEqual([{ orderId: withdrawn.orderId, items: [{ sku: tee, quantity: 3 }] }]);
    expect(await reservationsOf(inventory, late.orderId)).toEqual([{ sku: tee, quantity: 3, status: "held" }]);
  });
});
