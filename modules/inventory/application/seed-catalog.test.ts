import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../../../src/test-support/database.ts";
import { ProductUpserted } from "../contract.ts";
import { products } from "../infrastructure/schema.ts";
import { emitted, openInventory, type InventoryHarness } from "../test-support/inventory-harness.ts";
import { DEMO_CATALOG } from "./seed-catalog.ts";

let testDatabase: TestDatabase;
let inventory: InventoryHarness;

beforeAll(async () => {
  testDatabase = await createTestDatabase("inventory_seed");
  inventory = await openInventory(testDatabase.url);
});

afterAll(async () => {
  await inventory?.close();
  await testDatabase?.drop();
});

describe("seeding the demo catalog", () => {
  test("when the catalog is empty, then the demo products are created and each is announced once, however often seed runs", async () => {
    await Promise.all([inventory.module.seed!(), inventory.module.seed!()]);
    await inventory.module.seed!();

    const rows = await inventory.database.db.select().from(products);
    expect(rows.map((r) => r.sku).sort()).toEqual(DEMO_CATALOG.map((p) => p.sku).sort());
    for (const row of rows) {
      expect(row.currency).toBe("EUR");
      expect(row.onHand).toBeGreaterThanOrEqual(25);
      expect(row.onHand).toBeLessThanOrEqual(100);
    }
    const announced = await emitted(inventory, ProductUpserted);
    expect(announced.map((e) => e.sku).sort()).toEqual(DEMO_CATALOG.map((p) => p.sku).sort());
    const mug = DEMO_CATALOG.find((p) => p.sku === "MUG-WHITE")!;
    expect(announced).toContainEqual({ sku: mug.sku, name: mug.name, priceCents: mug.priceCents, currency: "EUR", active: true, version: 1 });
  });
});
