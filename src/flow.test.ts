import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "./test-support/eventually.ts";
import { admin, alice, startTestShop, type TestShop } from "./test-support/shop.ts";

// The whole order flow over HTTP, through RabbitMQ, across all three modules in one process.
let shop: TestShop;

beforeAll(async () => {
  shop = await startTestShop("flow");
});
afterAll(async () => {
  await shop?.close();
});

async function createProduct(sku: string, stock: number, priceCents = 1500) {
  const res = await shop.request(`/products/${sku}`, { method: "PUT", as: admin, json: { name: `Product ${sku}`, priceCents, currency: "EUR", stock } });
  expect(res.status).toBe(201);
}

async function orderStatus(id: string, as = alice) {
  const res = await shop.request(`/orders/${id}`, { as });
  return (await res.json()) as { status: string; statusReason: string | null; history: Array<{ status: string }> };
}

async function placeWhenPriced(items: Array<{ sku: string; quantity: number }>) {
  // The product-upserted event may still be on its way to orders: retry the 422 until it has arrived.
  return eventually(() => shop.request("/orders", { method: "POST", as: alice, json: { items } }), {
    accept: (res) => res.status !== 422,
    what: "orders to know the product's price",
  });
}

describe("placing an order", () => {
  test("when a customer orders a product in stock, then the order is confirmed, stock is reserved and an e-mail is recorded", async () => {
    const sku = `FLOW-${crypto.randomUUID().slice(0, 8)}`;
    await createProduct(sku, 5, 1250);

    const res = await placeWhenPriced([{ sku, quantity: 2 }]);
    expect(res.status).toBe(201);
    const order = (await res.json()) as { id: string; status: string; totalCents: number; currency: string };
    expect(order.status).toBe("pending");
    expect(order.totalCents).toBe(2500);
    expect(res.headers.get("location")).toBe(`/orders/${order.id}`);

    const confirmed = await eventually(() => orderStatus(order.id), { accept: (o) => o.status === "confirmed", what: "confirmation" });
    expect(confirmed.history.map((h) => h.status)).toEqual(["pending", "confirmed"]);

    const product = (await (await shop.request(`/products/${sku}`, { as: admin })).json()) as { onHand: number; reserved: number; available: number };
    expect(product).toMatchObject({ onHand: 5, reserved: 2, available: 3 });

    const mails = await eventually(
      async () => (await (await shop.request(`/notifications?orderId=${order.id}`, { as: admin })).json()) as { items: Array<{ to: string; template: string; status: string }> },
      { accept: (m) => m.items.some((n) => n.status === "sent"), what: "the confirmation e-mail" },
    );
    expect(mails.items).toHaveLength(1);
    expect(mails.items[0]).toMatchObject({ to: alice.email, template: "order-confirmed", status: "sent" });
  });

  test("when a customer orders more than is in stock, then the order is rejected naming the shortage and nothing is reserved", async () => {
    const plenty = `FLOW-${crypto.randomUUID().slice(0, 8)}`;
    const scarce = `FLOW-${crypto.randomUUID().slice(0, 8)}`;
    await createProduct(plenty, 10);
    await createProduct(scarce, 1);

    const res = await placeWhenPriced([
      { sku: plenty, quantity: 3 },
      { sku: scarce, quantity: 2 },
    ]);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };

    const rejected = await eventually(() => orderStatus(id), { accept: (o) => o.status === "rejected", what: "rejection" });
    expect(rejected.statusReason).toContain(scarce);

    for (const sku of [plenty, scarce]) {
      const product = (await (await shop.request(`/products/${sku}`, { as: admin })).json()) as { reserved: number };
      expect(product.reserved).toBe(0);
    }
    const mails = await eventually(
      async () => (await (await shop.request(`/notifications?orderId=${id}`, { as: admin })).json()) as { items: Array<{ template: string }> },
      { accept: (m) => m.items.length > 0, what: "the rejection e-mail" },
    );
    expect(mails.items.map((m) => m.template)).toEqual(["order-rejected"]);
  });

  test("when the request carries a correlation id, then it travels into the events of the whole flow", async () => {
    const sku = `FLOW-${crypto.randomUUID().slice(0, 8)}`;
    await createProduct(sku, 3);
    const correlationId = `corr-${crypto.randomUUID()}`;
    const res = await eventually(
      () => shop.request("/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 1 }] }, headers: { "x-correlation-id": correlationId } }),
      { accept: (r) => r.status !== 422 },
    );
    const { id } = (await res.json()) as { id: string };
    await eventually(() => orderStatus(id), { accept: (o) => o.status === "confirmed" });

    // Each module's outbox in its own database (one and the same unless TEST_SEPARATE_DATABASES=1).
    const rows = [
      ...(await shop.shop.databaseOf("orders").sql<{ name: string }[]>`select name from orders.outbox where envelope->>'correlationId' = ${correlationId}`),
      ...(await shop.shop.databaseOf("inventory").sql<{ name: string }[]>`select name from inventory.outbox where envelope->>'correlationId' = ${correlationId}`),
    ];
    expect(rows.map((r) => r.name).sort()).toEqual(["inventory.stock-reserved", "orders.order-confirmed", "orders.order-placed"]);
  });
});
