import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { asc, eq, sql } from "drizzle-orm";
import { signToken } from "../../src/platform/http/shop-tokens.ts";
import { createHttpApp } from "../../src/platform/http/server.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTestDatabase, type TestDatabase } from "../../src/test-support/database.ts";
import { OrderPlaced } from "../orders/contract.ts";
import { ProductUpserted } from "./contract.ts";
import { outbox, products } from "./infrastructure/schema.ts";
import { deliver, emitted, givenProduct, openInventory, placedOrder, TEST_AUTH_SECRET, type InventoryHarness } from "./test-support/inventory-harness.ts";
import { createAuthenticator } from "../../src/platform/http/authenticator.ts";

let testDatabase: TestDatabase;
let inventory: InventoryHarness;
let app: { handle(request: Request): Promise<Response> };
let adminToken: string;
let customerToken: string;

beforeAll(async () => {
  testDatabase = await createTestDatabase("inventory_http");
  inventory = await openInventory(testDatabase.url);
  app = createHttpApp({ logger: createLogger("silent"), authenticator: createAuthenticator({ secret: TEST_AUTH_SECRET }), readiness: {} }).use(inventory.module.routes!);
  adminToken = await signToken(TEST_AUTH_SECRET, { sub: "root", email: "root@example.com", role: "admin" });
  customerToken = await signToken(TEST_AUTH_SECRET, { sub: "alice", email: "alice@example.com", role: "customer" });
});

afterAll(async () => {
  await inventory?.close();
  await testDatabase?.drop();
});

function call(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  return app.handle(
    new Request(`http://localhost${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) }),
  );
}

type Problem = { errors: { in: string; field: string }[] };

const newSku = (prefix = "P") => `${prefix}-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;

describe("PUT /products/:sku", () => {
  test("when an admin puts a new sku, then it is created (201) with its stock and announced", async () => {
    const sku = newSku();

    const correlationId = `corr-${crypto.randomUUID()}`;

    const response = await call("PUT", `/products/${sku}`, {
      token: adminToken,
      body: { name: "Black mug", priceCents: 1250, stock: 7 },
      headers: { "x-correlation-id": correlationId },
    });

    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({
      sku,
      name: "Black mug",
      priceCents: 1250,
      currency: "EUR",
      active: true,
      onHand: 7,
      reserved: 0,
      available: 7,
      version: 1,
    });
    expect((await emitted(inventory, ProductUpserted)).filter((e) => e.sku === sku)).toEqual([
      { sku, name: "Black mug", priceCents: 1250, currency: "EUR", active: true, version: 1 },
    ]);
    const [row] = await inventory.database.db.select().from(outbox).where(sql`${outbox.envelope} -> 'data' ->> 'sku' = ${sku}`);
    expect(row?.envelope).toMatchObject({ name: "inventory.product-upserted", source: "inventory", correlationId });
  });

  test("when an admin puts an existing sku, then it is updated (200), its stock and currency are kept and the change announced", async () => {
    const sku = newSku();
    await call("PUT", `/products/${sku}`, { token: adminToken, body: { name: "Mug", priceCents: 1000, currency: "USD", stock: 5 } });

    const response = await call("PUT", `/products/${sku}`, {
      token: adminToken,
      body: { name: "Big mug", priceCents: 1500, active: false, stock: 99 },
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sku, name: "Big mug", priceCents: 1500, currency: "USD", active: false, onHand: 5, version: 2 });
    expect((await emitted(inventory, ProductUpserted)).filter((e) => e.sku === sku).at(-1)).toEqual({
      sku,
      name: "Big mug",
      priceCents: 1500,
      currency: "USD",
      active: false,
      version: 2,
    });
  });

  test("when there is no token, then 401; when a customer tries, then 403 — even with a bad body — and nothing changes", async () => {
    const sku = newSku();

    const anonymous = await call("PUT", `/products/${sku}`, { body: { name: "X", priceCents: 1 } });
    const customer = await call("PUT", `/products/${sku}`, { token: customerToken, body: { name: "X", priceCents: 1 } });
    const customerBadBody = await call("PUT", `/products/${sku}`, { token: customerToken, body: { priceCents: "free" } });

    expect(anonymous.status).toBe(401);
    expect(customer.status).toBe(403);
    expect(customer.headers.get("content-type")).toContain("application/problem+json");
    expect(await customer.json()).toMatchObject({ status: 403, code: "AUTH.ADMIN_ONLY" });
    expect(customerBadBody.status).toBe(403);
    expect(await inventory.database.db.select().from(products).where(eq(products.sku, sku))).toEqual([]);
  });

  test("when the body or the sku is invalid, then 422 names the field", async () => {
    const badPrice = await call("PUT", `/products/${newSku()}`, { token: adminToken, body: { name: "X", priceCents: -1 } });
    const badCurrency = await call("PUT", `/products/${newSku()}`, { token: adminToken, body: { name: "X", priceCents: 1, currency: "eur" } });
    const badSku = await call("PUT", `/products/${encodeURIComponent("no spaces")}`, { token: adminToken, body: { name: "X", priceCents: 1 } });

    expect(badPrice.status).toBe(422);
    expect(((await badPrice.json()) as Problem).errors).toContainEqual(expect.objectContaining({ in: "body", field: "/priceCents" }));
    expect(badCurrency.status).toBe(422);
    expect(((await badCurrency.json()) as Problem).errors).toContainEqual(expect.objectContaining({ in: "body", field: "/currency" }));
    expect(badSku.status).toBe(422);
    expect(((await badSku.json()) as Problem).errors).toContainEqual(expect.objectContaining({ in: "params", field: "/sku" }));
  });
});

describe("GET /products/:sku", () => {
  test("when an admin asks, then the product comes with on-hand, reserved and available stock", async () => {
    const sku = await givenProduct(inventory, { onHand: 10, reserved: 3, priceCents: 2500 });

    const response = await call("GET", `/products/${sku}`, { token: adminToken });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sku, priceCents: 2500, currency: "EUR", onHand: 10, reserved: 3, available: 7, active: true });
  });

  test("when anyone else asks, then they see name, price and whether it is in stock, never how many", async () => {
    const inStock = await givenProduct(inventory, { onHand: 10, reserved: 3, priceCents: 2500 });
    const soldOut = await givenProduct(inventory, { onHand: 4, reserved: 4 });

    for (const token of [undefined, customerToken]) {
      const inStockResponse = await call("GET", `/products/${inStock}`, { token });
      const soldOutResponse = await call("GET", `/products/${soldOut}`, { token });

      expect(inStockResponse.status).toBe(200);
      expect(await inStockResponse.json()).toEqual({ sku: inStock, name: `Product ${inStock}`, priceCents: 2500, currency: "EUR", availability: "in-stock" });
      expect(await soldOutResponse.json()).toEqual({ sku: soldOut, name: `Product ${soldOut}`, priceCents: 1000, currency: "EUR", availability: "out-of-stock" });
    }
  });

  test("when the product is retired, then anyone but an admin gets the same 404 as for an unknown sku; an admin sees it", async () => {
    const sku = await givenProduct(inventory, { onHand: 5, active: false });

    const anonymous = await call("GET", `/products/${sku}`);
    const customer = await call("GET", `/products/${sku}`, { token: customerToken });
    const asAdmin = await call("GET", `/products/${sku}`, { token: adminToken });

    for (const response of [anonymous, customer]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ status: 404, code: "INVENTORY.PRODUCT_NOT_FOUND", detail: `No product has sku ${sku}.` });
    }
    expect(asAdmin.status).toBe(200);
    expect(await asAdmin.json()).toMatchObject({ sku, active: false, onHand: 5, reserved: 0, available: 5 });
  });

  test("when the sku is unknown, then 404 problem; when it is malformed, then 422", async () => {
    const unknown = await call("GET", `/products/${newSku()}`);
    const malformed = await call("GET", `/products/${encodeURIComponent("-starts-with-dash")}`);

    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toContain("application/problem+json");
    expect(await unknown.json()).toMatchObject({ status: 404, code: "INVENTORY.PRODUCT_NOT_FOUND" });
    expect(malformed.status).toBe(422);
  });
});

describe("POST /products/:sku/stock", () => {
  test("when an admin adds or removes stock, then on-hand changes and the product is announced", async () => {
    const sku = await givenProduct(inventory, { onHand: 10, reserved: 4 });

    const added = await call("POST", `/products/${sku}/stock`, { token: adminToken, body: { delta: 5 } });
    const removed = await call("POST", `/products/${sku}/stock`, { token: adminToken, body: { delta: -11 } });

    expect(added.status).toBe(200);
    expect(await added.json()).toMatchObject({ onHand: 15, reserved: 4, available: 11 });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ onHand: 4, reserved: 4, available: 0 });
    expect((await emitted(inventory, ProductUpserted)).filter((e) => e.sku === sku)).toHaveLength(2);
  });

  test("when removal would leave less than is reserved, then 409 STOCK_BELOW_RESERVED and nothing changes", async () => {
    const sku = await givenProduct(inventory, { onHand: 10 });
    await deliver(inventory, OrderPlaced, placedOrder([{ sku, quantity: 6 }]));

    const response = await call("POST", `/products/${sku}/stock`, { token: adminToken, body: { delta: -5 } });

    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "INVENTORY.STOCK_BELOW_RESERVED", onHand: 10, reserved: 6, available: 4, minimumDelta: -4 });
    expect(await (await call("GET", `/products/${sku}`, { token: adminToken })).json()).toMatchObject({ onHand: 10, reserved: 6 });
    expect((await emitted(inventory, ProductUpserted)).filter((e) => e.sku === sku)).toEqual([]);
  });

  test("when removal would go below zero, then 409", async () => {
    const sku = await givenProduct(inventory, { onHand: 2 });

    const response = await call("POST", `/products/${sku}/stock`, { token: adminToken, body: { delta: -3 } });

    expect(response.status).toBe(409);
  });

  test("when the delta is 0 or not an integer, then 422; when the sku is unknown, then 404; for a customer, then 403", async () => {
    const sku = await givenProduct(inventory, { onHand: 2 });

    const zero = await call("POST", `/products/${sku}/stock`, { token: adminToken, body: { delta: 0 } });
    const fraction = await call("POST", `/products/${sku}/stock`, { token: adminToken, body: { delta: 1.5 } });
    const unknown = await call("POST", `/products/${newSku()}/stock`, { token: adminToken, body: { delta: 1 } });
    const customer = await call("POST", `/products/${sku}/stock`, { token: customerToken, body: { delta: 1 } });

    expect(zero.status).toBe(422);
    expect(await zero.json()).toMatchObject({ code: "INVENTORY.ZERO_STOCK_DELTA", errors: [{ in: "body", field: "/delta" }] });
    expect(fraction.status).toBe(422);
    expect(unknown.status).toBe(404);
    expect(customer.status).toBe(403);
  });

  test("when the stock would overflow what the catalog can count, then 422", async () => {
    const sku = await givenProduct(inventory, { onHand: 2_000_000_000 });

    const response = await call("POST", `/products/${sku}/stock`, { token: adminToken, body: { delta: 2_000_000_000 } });

    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ code: "INVENTORY.STOCK_OUT_OF_RANGE" });
  });
});

describe("GET /products", () => {
  test("when walking every page, then each active product appears exactly once, in sku order, and inactive ones never", async () => {
    for (let i = 0; i < 7; i++) await givenProduct(inventory, { onHand: i, sku: newSku("LIST") });
    const retired = await givenProduct(inventory, { onHand: 5, active: false, sku: newSku("LIST") });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await call("GET", `/products?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: { sku: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((item) => item.sku));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 100);

    const active = await inventory.database.db.select({ sku: products.sku }).from(products).where(eq(products.active, true)).orderBy(asc(products.sku));
    expect(seen).toEqual(active.map((row) => row.sku));
    expect(seen).not.toContain(retired);
  });

  test("when products are added between two pages, then no product is shown twice", async () => {
    for (let i = 0; i < 4; i++) await givenProduct(inventory, { onHand: 1, sku: newSku("MID") });
    const first = (await (await call("GET", "/products?limit=2")).json()) as { items: { sku: string }[]; nextCursor: string };
    // Sorts before everything on the first page (digits come before letters): an offset would shift and repeat.
    await givenProduct(inventory, { onHand: 1, sku: `0${newSku("EARLY")}` });

    const second = (await (await call("GET", `/products?limit=2&cursor=${first.nextCursor}`)).json()) as { items: { sku: string }[] };

    const firstSkus = first.items.map((item) => item.sku);
    for (const item of second.items) expect(firstSkus).not.toContain(item.sku);
    expect(second.items.every((item) => item.sku > firstSkus.at(-1)!)).toBe(true);
  });

  test("when anyone but an admin lists, then items carry sku, name, price, currency and whether they are in stock only", async () => {
    const sku = await givenProduct(inventory, { onHand: 9, reserved: 2, priceCents: 777, sku: newSku("AAA") });
    const soldOut = await givenProduct(inventory, { onHand: 2, reserved: 2, priceCents: 5, sku: newSku("AAA") });

    for (const token of [undefined, customerToken]) {
      const response = await call("GET", "/products?limit=100", { token });
      const page = (await response.json()) as { items: Record<string, unknown>[] };

      expect(page.items.find((item) => item.sku === sku)).toEqual({ sku, name: `Product ${sku}`, priceCents: 777, currency: "EUR", availability: "in-stock" });
      expect(page.items.find((item) => item.sku === soldOut)).toEqual({ sku: soldOut, name: `Product ${soldOut}`, priceCents: 5, currency: "EUR", availability: "out-of-stock" });
    }
  });

  test("when an admin walks every page, then every product appears once, retired ones included, with its stock", async () => {
    const active = await givenProduct(inventory, { onHand: 9, reserved: 2, sku: newSku("ADM") });
    const retired = await givenProduct(inventory, { onHand: 3, active: false, sku: newSku("ADM") });

    const seen: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const response = await call("GET", `/products?limit=7${cursor ? `&cursor=${cursor}` : ""}`, { token: adminToken });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: Record<string, unknown>[]; nextCursor: string | null };
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);

    const all = await inventory.database.db.select({ sku: products.sku }).from(products).orderBy(asc(products.sku));
    expect(seen.map((item) => item.sku)).toEqual(all.map((row) => row.sku));
    expect(seen.find((item) => item.sku === active)).toMatchObject({ active: true, onHand: 9, reserved: 2, available: 7 });
    expect(seen.find((item) => item.sku === retired)).toMatchObject({ active: false, onHand: 3, reserved: 0, available: 3 });
  });

  test("when limit is out of 1..100 or the cursor was not handed out, then 422", async () => {
    expect((await call("GET", "/products?limit=0")).status).toBe(422);
    expect((await call("GET", "/products?limit=101")).status).toBe(422);
    const badCursor = await call("GET", "/products?cursor=not*base64");
    expect(badCursor.status).toBe(422);
    expect(await badCursor.json()).toMatchObject({ code: "INVENTORY.INVALID_CURSOR", errors: [{ in: "query", field: "/cursor" }] });
  });

  test("when no limit is given, then at most 20 items come back", async () => {
    for (let i = 0; i < 21; i++) await givenProduct(inventory, { onHand: 1, sku: newSku("MANY") });

    const page = (await (await call("GET", "/products")).json()) as { items: unknown[]; nextCursor: string | null };

    expect(page.items).toHaveLength(20);
    expect(page.nextCursor).not.toBeNull();
  });
});
