import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { commerce, json, newSku, type OrderView, type Problem } from "./test-support/commerce.ts";
import { admin, alice, startTestShop, type TestShop } from "./test-support/shop.ts";

// An admin's edit of a product reaches orders' catalog copy (inventory.product-upserted): an edit that names only
// the name and the price must not change the currency or the active flag orders prices and accepts orders with.
let shop: TestShop;
let c: ReturnType<typeof commerce>;

beforeAll(async () => {
  shop = await startTestShop("catalog_edit");
  c = commerce(shop);
});
afterAll(async () => {
  await shop?.close();
});

const putProduct = (sku: string, body: Record<string, unknown>) => shop.request(`/products/${sku}`, { method: "PUT", as: admin, json: body });

describe("editing a product's name and price", () => {
  test("when a retired USD product gets a new name and price, then it stays retired, and once brought back its orders are priced in USD", async () => {
    const sku = newSku("EDIT");
    expect((await putProduct(sku, { name: "Cap", priceCents: 900, currency: "USD", stock: 5 })).status).toBe(201);
    expect((await putProduct(sku, { name: "Cap", priceCents: 900, active: false })).status).toBe(200);

    const edited = await putProduct(sku, { name: "Blue cap", priceCents: 950 });

    expect(edited.status).toBe(200);
    expect(await edited.json()).toMatchObject({ currency: "USD", active: false });
    await c.ordersKnow(sku, { priceCents: 950, active: false });
    const refused = await c.place(alice, [{ sku, quantity: 1 }]);
    expect(refused.status).toBe(422);
    expect(await json<Problem & { skus?: string[] }>(refused)).toMatchObject({ code: "ORDERS.UNKNOWN_SKU", skus: [sku] });

    expect((await putProduct(sku, { name: "Blue cap", priceCents: 950, active: true })).status).toBe(200);
    await c.ordersKnow(sku, { active: true });
    const order: OrderView = await c.placeOk(alice, [{ sku, quantity: 2 }]);
    expect(order).toMatchObject({ currency: "USD", totalCents: 1900 });
    expect(order.items).toEqual([{ sku, name: "Blue cap", quantity: 2, unitPriceCents: 950, lineTotalCents: 1900 }]);
  });

  test("when an edit asks for another currency, then it is refused and orders keep pricing in the product's own", async () => {
    const sku = newSku("EDIT");
    await c.createProduct(sku, 5, 1000);

    const refused = await putProduct(sku, { name: "Dollar mug", priceCents: 1000, currency: "USD" });

    expect(refused.status).toBe(409);
    expect(await json<Problem>(refused)).toMatchObject({ code: "INVENTORY.CURRENCY_CHANGE", currentCurrency: "EUR" });
    expect(await c.placeOk(alice, [{ sku, quantity: 1 }])).toMatchObject({ currency: "EUR", totalCents: 1000 });
    expect(await c.product(sku)).toMatchObject({ name: `Product ${sku}`, currency: "EUR", version: 1 });
  });
});
