import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { signToken } from "../../src/platform/http/shop-tokens.ts";
import { createHttpApp } from "../../src/platform/http/server.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTestDatabase, type TestDatabase } from "../../src/test-support/database.ts";
import { expectNothingWritten, snapshotTables } from "../../src/test-support/table-snapshot.ts";
import { ProductUpserted } from "./contract.ts";
import { products } from "./infrastructure/schema.ts";
import { emitted, openInventory, TEST_AUTH_SECRET, type InventoryHarness } from "./test-support/inventory-harness.ts";
import { createAuthenticator } from "../../src/platform/http/authenticator.ts";

// PUT /products/:sku changes what the body names and nothing else: an update keeps the product's currency and
// its active flag unless the body gives them, and a product's currency never changes (README "API").

let testDatabase: TestDatabase;
let inventory: InventoryHarness;
let app: { handle(request: Request): Promise<Response> };
let adminToken: string;

beforeAll(async () => {
  testDatabase = await createTestDatabase("inventory_put_product");
  inventory = await openInventory(testDatabase.url);
  app = createHttpApp({ logger: createLogger("silent"), authenticator: createAuthenticator({ secret: TEST_AUTH_SECRET }), readiness: {} }).use(inventory.module.routes!);
  adminToken = await signToken(TEST_AUTH_SECRET, { sub: "root", email: "root@example.com", role: "admin" });
});

afterAll(async () => {
  await inventory?.close();
  await testDatabase?.drop();
});

function put(sku: string, body: unknown): Promise<Response> {
  return app.handle(
    new Request(`http://localhost/products/${sku}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

async function stored(sku: string) {
  const [row] = await inventory.database.db.select().from(products).where(eq(products.sku, sku));
  return row;
}

const newSku = () => `PUT-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;

type Problem = { code?: string; errors: { in: string; field: string }[] };

describe("PUT /products/:sku on an existing product", () => {
  test("when a retired USD product is put with only name and price, then it stays USD and retired, and so does what orders is told", async () => {
    const sku = newSku();
    expect((await put(sku, { name: "Cap", priceCents: 900, currency: "USD", stock: 4 })).status).toBe(201);
    expect((await put(sku, { name: "Cap", priceCents: 900, currency: "USD", active: false })).status).toBe(200);

    const response = await put(sku, { name: "Blue cap", priceCents: 950 });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sku, name: "Blue cap", priceCents: 950, currency: "USD", active: false, onHand: 4, version: 3 });
    expect(await stored(sku)).toMatchObject({ name: "Blue cap", priceCents: 950, currency: "USD", active: false, onHand: 4 });
    // orders keeps its catalog copy (and prices every later order) from this event.
    expect((await emitted(inventory, ProductUpserted)).filter((e) => e.sku === sku).at(-1)).toEqual({
      sku,
      name: "Blue cap",
      priceCents: 950,
      currency: "USD",
      active: false,
      version: 3,
    });
  });

  test("when active is given, then it retires or brings back the product, and its currency stays", async () => {
    const sku = newSku();
    await put(sku, { name: "Mug", priceCents: 1000, currency: "GBP" });

    const retired = await put(sku, { name: "Mug", priceCents: 1000, active: false });
    const back = await put(sku, { name: "Mug", priceCents: 1100, active: true });

    expect(await retired.json()).toMatchObject({ active: false, currency: "GBP" });
    expect(await back.json()).toMatchObject({ active: true, priceCents: 1100, currency: "GBP", version: 3 });
  });

  test("when the body repeats the product's own currency, then the update goes through", async () => {
    const sku = newSku();
    await put(sku, { name: "Mug", priceCents: 1000, currency: "USD" });

    const response = await put(sku, { name: "Mug", priceCents: 1200, currency: "USD" });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ priceCents: 1200, currency: "USD", version: 2 });
  });

  test("when the body asks for another currency, then 409 INVENTORY.CURRENCY_CHANGE names currency and nothing is written or announced", async () => {
    const sku = newSku();
    await put(sku, { name: "Cap", priceCents: 900, currency: "USD", stock: 2 });
    const before = await snapshotTables(inventory.database.sql);

    const response = await put(sku, { name: "Renamed cap", priceCents: 900, currency: "EUR", active: false });

    expect(response.status).toBe(409);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await response.json()) as Problem & { currentCurrency?: string };
    expect(problem).toMatchObject({ status: 409, code: "INVENTORY.CURRENCY_CHANGE", sku, currentCurrency: "USD" });
    expect(problem.errors).toEqual([expect.objectContaining({ in: "body", field: "/currency" })]);
    await expectNothingWritten(inventory.database.sql, before);
    expect(await stored(sku)).toMatchObject({ name: "Cap", currency: "USD", active: true, version: 1 });
  });
});

describe("PUT /products/:sku with fields missing", () => {
  test("when name and price are both missing, then 422 names each of them and nothing is written", async () => {
    const existing = newSku();
    await put(existing, { name: "Mug", priceCents: 1000 });
    const before = await snapshotTables(inventory.database.sql);

    for (const sku of [existing, newSku()]) {
      const response = await put(sku, { currency: "EUR", active: true });

      expect(response.status).toBe(422);
      const fields = ((await response.json()) as Problem).errors.map((e) => [e.in, e.field]);
      expect(fields).toContainEqual(["body", "/name"]);
      expect(fields).toContainEqual(["body", "/priceCents"]);
    }
    const onlyName = await put(existing, { name: "Mug" });
    expect(((await onlyName.json()) as Problem).errors.map((e) => e.field)).toEqual(["/priceCents"]);
    await expectNothingWritten(inventory.database.sql, before);
  });
});

describe("PUT /products/:sku creating a product", () => {
  test("when currency and active are left out, then the new product is EUR and active", async () => {
    const sku = newSku();

    const response = await put(sku, { name: "Plate", priceCents: 500 });

    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ sku, currency: "EUR", active: true, onHand: 0, version: 1 });
  });

  test("when currency, active and stock are given, then the new product has them", async () => {
    const sku = newSku();

    const response = await put(sku, { name: "Plate", priceCents: 500, currency: "USD", active: false, stock: 3 });

    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ sku, currency: "USD", active: false, onHand: 3 });
  });
});
