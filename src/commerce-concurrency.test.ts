import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { commerce, json, newCustomer, newSku, type OrderView, type Problem } from "./test-support/commerce.ts";
import { eventually } from "./test-support/eventually.ts";
import { alice, bob, startTestShop, type TestShop } from "./test-support/shop.ts";

// Many requests at once over HTTP, with inventory handling the placements concurrently (prefetch > 1):
// stock is never oversold, and of two transitions of one order only one wins.
let shop: TestShop;
let c: ReturnType<typeof commerce>;

beforeAll(async () => {
  shop = await startTestShop("commerce_race");
  c = commerce(shop);
});
afterAll(async () => {
  await shop?.close();
});

const sku = () => newSku("RACE");
const countBy = (orders: OrderView[]) =>
  orders.reduce<Record<string, number>>((counts, o) => ({ ...counts, [o.status]: (counts[o.status] ?? 0) + 1 }), {});

describe("reserving under concurrency", () => {
  test("when 100 customers' orders for 1 unit each arrive at once for 30 in stock, then exactly 30 are confirmed, 70 rejected, and the stock is exactly used up", async () => {
    const s = sku();
    await c.createProduct(s, 30);
    const customers = Array.from({ length: 10 }, () => newCustomer("racer"));

    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => c.place(customers[i % 10]!, [{ sku: s, quantity: 1 }])));

    expect(answers.map((r) => r.status)).toEqual(Array(100).fill(201));
    const ids = new Set((await Promise.all(answers.map((r) => json<OrderView>(r)))).map((o) => o.id));
    expect(ids.size).toBe(100);
    // Every customer lists their own orders: 10 each, and once none is pending the outcome is final.
    const settled = await eventually(async () => (await Promise.all(customers.map((who) => c.orderPages(who, { limit: "100" })))).flat(2), {
      accept: (orders) => orders.length === 100 && orders.every((o) => o.status !== "pending"),
      what: "all 100 orders to be confirmed or rejected",
      timeoutMs: 25_000,
      intervalMs: 200,
    });
    expect(new Set(settled.map((o) => o.id))).toEqual(ids);
    expect(countBy(settled)).toEqual({ confirmed: 30, rejected: 70 });
    for (const order of settled.filter((o) => o.status === "rejected")) {
      expect(order.statusReason).toBe(`insufficient stock: ${s} (requested 1, available 0)`);
    }
    expect(await c.product(s)).toMatchObject({ onHand: 30, reserved: 30, available: 0 });
  });

  test("when two customers race for the last unit, then exactly one order is confirmed and the other rejected", async () => {
    const skus = Array.from({ length: 5 }, sku);
    await Promise.all(skus.map((s) => c.createProduct(s, 1)));

    // Five rounds at once, one product each, so a lucky interleaving cannot make the test pass.
    await Promise.all(
      skus.map(async (s) => {
        const [a, b] = await Promise.all([c.placeOk(alice, [{ sku: s, quantity: 1 }]), c.placeOk(bob, [{ sku: s, quantity: 1 }])]);
        const outcomes = await Promise.all(
          [a!, b!].map((o) => eventually(() => c.order(o.id), { accept: (x) => x.status !== "pending", what: `order ${o.id} to settle` })),
        );
        expect(outcomes.map((o) => o.status).sort()).toEqual(["confirmed", "rejected"]);
        expect(await c.product(s)).toMatchObject({ onHand: 1, reserved: 1, available: 0 });
      }),
    );
  });
});

describe("transitions under concurrency", () => {
  test("when an admin ships and the customer cancels the same confirmed order at once, then exactly one wins and the stock follows the winner", async () => {
    const skus = Array.from({ length: 4 }, sku);
    await Promise.all(skus.map((s) => c.createProduct(s, 5)));

    await Promise.all(
      skus.map(async (s) => {
        const order = await c.confirmedOrder(alice, [{ sku: s, quantity: 2 }]);

        const [shipped, cancelled] = await Promise.all([c.ship(order.id), c.cancel(order.id, alice)]);

        expect([shipped.status, cancelled.status].sort()).toEqual([200, 409]);
        const loser = await json<Problem>(shipped.status === 409 ? shipped : cancelled);
        const winner = shipped.status === 200 ? "shipped" : "cancelled";
        expect(loser).toMatchObject({ code: "ORDERS.INVALID_TRANSITION", orderStatus: winner });
        const final = await c.order(order.id);
        expect(final.history.map((h) => h.status)).toEqual(["pending", "confirmed", winner]);

        await c.inventoryHandled(order.id, [winner === "shipped" ? "orders.order-shipped" : "orders.order-cancelled"]);
        expect(await c.product(s)).toMatchObject(winner === "shipped" ? { onHand: 3, reserved: 0, available: 3 } : { onHand: 5, reserved: 0, available: 5 });
        await c.expectMails(order.id, ["order-confirmed", winner === "shipped" ? "order-shipped" : "order-cancelled"]);
      }),
    );
  });

  test("when a client sends the same Idempotency-Key several times at once, then one order is placed and every other answer is that order or 409 in flight", async () => {
    const s = sku();
    await c.createProduct(s, 10);
    const frank = newCustomer("idem");
    const key = `order-${crypto.randomUUID()}`;

    const answers = await Promise.all(Array.from({ length: 8 }, () => c.place(frank, [{ sku: s, quantity: 1 }], { "idempotency-key": key })));

    const placed = await Promise.all(answers.filter((r) => r.status === 201).map((r) => json<OrderView>(r)));
    const refused = await Promise.all(answers.filter((r) => r.status !== 201).map((r) => json<Problem>(r)));
    expect(placed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(placed.map((o) => o.id)).size).toBe(1);
    for (const problem of refused) expect(problem).toMatchObject({ status: 409, code: "ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT" });
    const orderId = placed[0]!.id;

    await c.orderEventually(orderId, "confirmed");
    expect((await c.orderPages(frank)).flat().map((o) => o.id)).toEqual([orderId]);
    expect(await c.product(s)).toMatchObject({ reserved: 1, available: 9 });
  });
});
