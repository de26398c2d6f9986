import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../../../src/test-support/database.ts";
import { OrderCancelled, OrderPlaced, OrderShipped } from "../../orders/contract.ts";
import { deliver, givenProduct, openInventory, placedOrder, reservationsOf, stockOf, type InventoryHarness } from "../test-support/inventory-harness.ts";

let testDatabase: TestDatabase;
let inventory: InventoryHarness;

beforeAll(async () => {
  testDatabase = await createTestDatabase("inventory_consume");
  inventory = await openInventory(testDatabase.url);
});

afterAll(async () => {
  await inventory?.close();
  await testDatabase?.drop();
});

describe("consuming stock of a shipped order", () => {
  test("when a reserved order ships, then on-hand and reserved drop by its units and available stays", async () => {
    const sku = await givenProduct(inventory, { onHand: 10 });
    const order = placedOrder([{ sku, quantity: 3 }]);
    const other = placedOrder([{ sku, quantity: 2 }]);
    await deliver(inventory, OrderPlaced, order);
    await deliver(inventory, OrderPlaced, other);

    await deliver(inventory, OrderShipped, order);

    expect(await stockOf(inventory, sku)).toEqual({ onHand: 7, reserved: 2 });
    expect(await reservationsOf(inventory, order.orderId)).toEqual([{ sku, quantity: 3, status: "consumed" }]);
  });

  test("when a shipment is delivered again under another message id, then stock drops once", async () => {
    const sku = await givenProduct(inventory, { onHand: 10 });
    const order = placedOrder([{ sku, quantity: 3 }]);
    await deliver(inventory, OrderPlaced, order);

    await deliver(inventory, OrderShipped, order);
    await deliver(inventory, OrderShipped, order);

    expect(await stockOf(inventory, sku)).toEqual({ onHand: 7, reserved: 0 });
  });

  test("when a shipped order is cancelled afterwards, then nothing is released", async () => {
    const sku = await givenProduct(inventory, { onHand: 10 });
    const order = placedOrder([{ sku, quantity: 3 }]);
    await deliver(inventory, OrderPlaced, order);
    await deliver(inventory, OrderShipped, order);

    await deliver(inventory, OrderCancelled, order);

    expect(await stockOf(inventory, sku)).toEqual({ onHand: 7, reserved: 0 });
    expect(await reservationsOf(inventory, order.orderId)).toEqual([{ sku, quantity: 3, status: "consumed" }]);
  });
});
