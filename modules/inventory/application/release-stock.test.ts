import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../../../src/test-support/database.ts";
import { OrderCancelled, OrderPlaced } from "../../orders/contract.ts";
import { StockReleased } from "../contract.ts";
import { deliver, emitted, givenProduct, openInventory, placedOrder, reservationsOf, stockOf, type InventoryHarness } from "../test-support/inventory-harness.ts";

let testDatabase: TestDatabase;
let inventory: InventoryHarness;

beforeAll(async () => {
  testDatabase = await createTestDatabase("inventory_release");
  inventory = await openInventory(testDatabase.url);
});

afterAll(async () => {
  await inventory?.close();
  await testDatabase?.drop();
});

describe("releasing stock of a cancelled order", () => {
  test("when a reserved order is cancelled, then exactly its units become available again and are announced", async () => {
    const a = await givenProduct(inventory, { onHand: 10, sku: `A-${crypto.randomUUID()}` });
    const b = await givenProduct(inventory, { onHand: 10, sku: `B-${crypto.randomUUID()}` });
    const other = placedOrder([{ sku: a, quantity: 4 }]);
    const order = placedOrder([
      { sku: b, quantity: 2 },
      { sku: a, quantity: 3 },
    ]);
    await deliver(inventory, OrderPlaced, other);
    await deliver(inventory, OrderPlaced, order);

    await deliver(inventory, OrderCancelled, order);

    expect(await stockOf(inventory, a)).toEqual({ onHand: 10, reserved: 4 });
    expect(await stockOf(inventory, b)).toEqual({ onHand: 10, reserved: 0 });
    expect(await reservationsOf(inventory, order.orderId)).toEqual([
      { sku: a, quantity: 3, status: "released" },
      { sku: b, quantity: 2, status: "released" },
    ]);
    expect(await emitted(inventory, StockReleased, order.orderId)).toEqual([
      { orderId: order.orderId, items: [{ sku: a, quantity: 3 }, { sku: b, quantity: 2 }] },
    ]);
  });

  test("when an order is cancelled twice, then its units are released once", async () => {
    const sku = await givenProduct(inventory, { onHand: 10 });
    const order = placedOrder([{ sku, quantity: 3 }]);
    const keeper = placedOrder([{ sku, quantity: 2 }]);
    await deliver(inventory, OrderPlaced, keeper);
    await deliver(inventory, OrderPlaced, order);

    await deliver(inventory, OrderCancelled, order);
    await deliver(inventory, OrderCancelled, order);

    expect(await stockOf(inventory, sku)).toEqual({ onHand: 10, reserved: 2 });
    expect(await emitted(inventory, StockReleased, order.orderId)).toEqual([
      { orderId: order.orderId, items: [{ sku, quantity: 3 }] },
      { orderId: order.orderId, items: [] },
    ]);
  });

  test("when a rejected order is cancelled, then nothing changes and no items are released", async () => {
    const sku = await givenProduct(inventory, { onHand: 1 });
    const order = placedOrder([{ sku, quantity: 2 }]);
    await deliver(inventory, OrderPlaced, order);

    await deliver(inventory, OrderCancelled, order);

    expect(await stockOf(inventory, sku)).toEqual({ onHand: 1, reserved: 0 });
    expect(await emitted(inventory, StockReleased, order.orderId)).toEqual([{ orderId: order.orderId, items: [] }]);
  });
});
