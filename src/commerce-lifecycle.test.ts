import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { OrderCancelled, OrderPlaced } from "../modules/orders/contract.ts";
import { envelopeProperties } from "./platform/messaging/broker.ts";
import { createEnvelope, type Envelope } from "./platform/messaging/envelope.ts";
import { publishRaw } from "./test-support/broker.ts";
import { commerce, json, newCustomer, newSku, type OrderView, type Problem } from "./test-support/commerce.ts";
import { admin, alice, bob, startTestShop, type TestShop } from "./test-support/shop.ts";

// An order's life across the three modules, over HTTP and through RabbitMQ: reserve, reject, cancel, ship,
// re-price, retry with an Idempotency-Key — and the e-mail each step sends.
let shop: TestShop;
let c: ReturnType<typeof commerce>;

beforeAll(async () => {
  shop = await startTestShop("commerce_life");
  c = commerce(shop);
});
afterAll(async () => {
  await shop?.close();
});

const sku = () => newSku("LIFE");
const history = (order: OrderView) => order.history.map((h) => h.status);

describe("reserving stock", () => {
  test("when one line of an order is short, then the order is rejected naming that line, none of its other lines is reserved, and the e-mail gives the reason", async () => {
    const [plenty, alsoPlenty, scarce] = [sku(), sku(), sku()];
    await Promise.all([c.createProduct(plenty, 10), c.createProduct(alsoPlenty, 10), c.createProduct(scarce, 1)]);

    const placed = await c.placeOk(alice, [
      { sku: plenty, quantity: 3 },
      { sku: scarce, quantity: 2 },
      { sku: alsoPlenty, quantity: 1 },
    ]);

    const rejected = await c.orderEventually(placed.id, "rejected");
    expect(rejected.statusReason).toBe(`insufficient stock: ${scarce} (requested 2, available 1)`);
    for (const [s, stock] of [[plenty, 10], [alsoPlenty, 10], [scarce, 1]] as const) {
      expect(await c.product(s)).toMatchObject({ onHand: stock, reserved: 0, available: stock });
    }
    await c.expectMails(placed.id, ["order-rejected"], alice.email);
    const text = await c.mailText(placed.id, "order-rejected");
    expect(text).toContain(`Reason: ${rejected.statusReason}`);
    expect(text).toContain(`(${scarce}): you asked for 2, we have 1`);

    const cancel = await c.cancel(placed.id, alice);
    expect(cancel.status).toBe(409);
    expect(await json<Problem>(cancel)).toMatchObject({ code: "ORDERS.INVALID_TRANSITION", orderStatus: "rejected" });
  });
});

describe("cancelling", () => {
  test("when a customer cancels a confirmed order, then it is cancelled, its stock is available again and an order-cancelled e-mail follows the confirmation", async () => {
    const s = sku();
    await c.createProduct(s, 5);
    const order = await c.confirmedOrder(alice, [{ sku: s, quantity: 2 }]);
    expect(await c.product(s)).toMatchObject({ onHand: 5, reserved: 2, available: 3 });

    const res = await c.cancel(order.id, alice, { reason: "found it cheaper" });

    expect(res.status).toBe(200);
    const cancelled = await json<OrderView>(res);
    expect(cancelled).toMatchObject({ status: "cancelled", statusReason: "found it cheaper" });
    expect(history(cancelled)).toEqual(["pending", "confirmed", "cancelled"]);
    await c.productEventually(s, (p) => p.reserved === 0, "the reservation to be released");
    expect(await c.product(s)).toMatchObject({ onHand: 5, reserved: 0, available: 5 });
    await c.expectMails(order.id, ["order-confirmed", "order-cancelled"], alice.email);
    expect(await c.mailText(order.id, "order-cancelled")).toContain("Reason: found it cheaper");

    const again = await c.cancel(order.id, alice);
    expect(again.status).toBe(409);
    expect(await json<Problem>(again)).toMatchObject({ code: "ORDERS.INVALID_TRANSITION", orderStatus: "cancelled" });
  });

  test("when a customer cancels an order inventory has not reserved yet, then it is cancelled, never confirmed, and no stock stays reserved for it", async () => {
    const s = sku();
    await c.createProduct(s, 4);

    // The product's row is locked: inventory cannot reserve it, so the order is still pending when cancelled.
    const order = await c.withRowLocked("inventory.products", s, async () => {
      const placed = await c.placeOk(alice, [{ sku: s, quantity: 3 }]);
      const res = await c.cancel(placed.id, alice);
      expect(res.status).toBe(200);
      expect(history(await json<OrderView>(res))).toEqual(["pending", "cancelled"]);
      return placed;
    });

    await c.inventoryHandled(order.id, ["orders.order-placed", "orders.order-cancelled"]);
    expect(await c.product(s)).toMatchObject({ onHand: 4, reserved: 0, available: 4 });
    // Whichever inventory handled first, what it released is what it reserved.
    const events = await c.inventoryEvents(order.id);
    const reserved = events.filter((e) => e.name === "inventory.stock-reserved");
    const released = events.find((e) => e.name === "inventory.stock-released");
    expect(released?.items).toEqual(reserved.length > 0 ? [{ sku: s, quantity: 3 }] : []);
    // A late stock-reserved reaching orders leaves the cancelled order alone.
    if (reserved.length > 0) await c.handledBy("orders", reserved.map((e) => e.id));
    expect(history(await c.order(order.id))).toEqual(["pending", "cancelled"]);
    await c.expectMails(order.id, ["order-cancelled"], alice.email);
  });

  test("when customers cancel orders right after placing them, then each ends cancelled with one e-mail per step and the stock ends as before", async () => {
    const s = sku();
    await c.createProduct(s, 20);

    const orders = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const placed = await c.placeOk(alice, [{ sku: s, quantity: 2 }]);
        const res = await c.cancel(placed.id, alice);
        expect(res.status).toBe(200);
        return json<OrderView>(res);
      }),
    );

    for (const order of orders) {
      expect(order.status).toBe("cancelled");
      await c.inventoryHandled(order.id, ["orders.order-placed", "orders.order-cancelled"]);
      // The confirmation may have won the race with the cancel: then it has its e-mail too.
      const wasConfirmed = history(order).includes("confirmed");
      await c.expectMails(order.id, wasConfirmed ? ["order-confirmed", "order-cancelled"] : ["order-cancelled"]);
    }
    expect(await c.product(s)).toMatchObject({ onHand: 20, reserved: 0, available: 20 });
  });

  test("when an order's cancel reaches inventory before its placement, then the late placement reserves nothing", async () => {
    const s = sku();
    await c.createProduct(s, 5);
    const orderId = Bun.randomUUIDv7();
    const snapshot = {
      orderId,
      customerId: alice.sub,
      customerEmail: alice.email,
      items: [{ sku: s, name: `Product ${s}`, quantity: 2, unitPriceCents: 1000, lineTotalCents: 2000 }],
      totalCents: 2000,
      currency: "EUR",
    };
    const meta = { correlationId: `overtaken-${orderId}` };
    const cancelled = createEnvelope(OrderCancelled, { ...snapshot, reason: "changed my mind" }, "orders", meta);
    const placed = createEnvelope(OrderPlaced, snapshot, "orders", meta);
    const publish = (envelope: Envelope) =>
      publishRaw(shop.shop.broker.names.events, envelope.name, JSON.stringify(envelope), { ...envelopeProperties(envelope) });

    await publish(cancelled);
    await c.handledBy("inventory", [cancelled.id]);
    await publish(placed);
    await c.handledBy("inventory", [placed.id]);

    expect(await c.product(s)).toMatchObject({ onHand: 5, reserved: 0, available: 5 });
    expect(await c.inventoryEvents(orderId)).toEqual([expect.objectContaining({ name: "inventory.stock-released", items: [] })]);
    // The stock really is free: a real order for all of it is confirmed.
    await c.confirmedOrder(bob, [{ sku: s, quantity: 5 }]);
  });
});

describe("shipping", () => {
  test("when an admin ships a confirmed order, then it is shipped, on-hand and reserved stock both drop by its quantity and an order-shipped e-mail follows", async () => {
    const s = sku();
    await c.createProduct(s, 10);
    const other = await c.confirmedOrder(bob, [{ sku: s, quantity: 1 }]);
    const order = await c.confirmedOrder(alice, [{ sku: s, quantity: 3 }]);
    expect(await c.product(s)).toMatchObject({ onHand: 10, reserved: 4, available: 6 });

    const res = await c.ship(order.id);

    expect(res.status).toBe(200);
    const shipped = await json<OrderView>(res);
    expect(history(shipped)).toEqual(["pending", "confirmed", "shipped"]);
    await c.productEventually(s, (p) => p.onHand === 7, "on-hand stock to drop");
    expect(await c.product(s)).toMatchObject({ onHand: 7, reserved: 1, available: 6 });
    await c.expectMails(order.id, ["order-confirmed", "order-shipped"], alice.email);
    expect((await c.order(other.id)).status).toBe("confirmed");

    for (const attempt of [c.cancel(order.id, alice), c.ship(order.id)]) {
      const refused = await attempt;
      expect(refused.status).toBe(409);
      expect(await json<Problem>(refused)).toMatchObject({ code: "ORDERS.INVALID_TRANSITION", orderStatus: "shipped" });
    }
  });

  test("when an admin ships an order that is pending, cancelled or rejected, then 409 names its status and no stock moves", async () => {
    const s = sku();
    await c.createProduct(s, 5);
    const expectShipRefused = async (id: string, status: string) => {
      const res = await c.ship(id);
      expect(res.status).toBe(409);
      const problem = await json<Problem>(res);
      expect(problem).toMatchObject({ code: "ORDERS.INVALID_TRANSITION", orderStatus: status });
      expect(problem.detail).toContain(`is ${status}`);
    };

    const order = await c.withRowLocked("inventory.products", s, async () => {
      const placed = await c.placeOk(alice, [{ sku: s, quantity: 2 }]);
      await expectShipRefused(placed.id, "pending");
      return placed;
    });
    await c.orderEventually(order.id, "confirmed");
    const cancelled = await c.cancel(order.id, admin);
    expect(cancelled.status).toBe(200);
    expect((await json<OrderView>(cancelled)).statusReason).toBe("cancelled by admin");
    await expectShipRefused(order.id, "cancelled");

    const tooMany = await c.placeOk(alice, [{ sku: s, quantity: 6 }]);
    await c.orderEventually(tooMany.id, "rejected");
    await expectShipRefused(tooMany.id, "rejected");

    await c.inventoryHandled(order.id, ["orders.order-placed", "orders.order-cancelled"]);
    expect(await c.product(s)).toMatchObject({ onHand: 5, reserved: 0, available: 5 });
    // Cancelled by the admin, yet the e-mail goes to the customer.
    await c.expectMails(order.id, ["order-confirmed", "order-cancelled"], alice.email);
  });
});

describe("changing the catalog", () => {
  test("when the admin changes a price, then placed orders keep the price they were placed at and new orders use the new one", async () => {
    const s = sku();
    await c.createProduct(s, 10, 1000);
    const first = await c.placeOk(alice, [{ sku: s, quantity: 2 }]);
    expect(first.items[0]).toMatchObject({ unitPriceCents: 1000, lineTotalCents: 2000 });
    await c.orderEventually(first.id, "confirmed");

    await c.changePrice(s, 1250);
    const second = await c.placeOk(alice, [{ sku: s, quantity: 2 }]);

    expect(second.items[0]).toMatchObject({ unitPriceCents: 1250, lineTotalCents: 2500 });
    expect(second.totalCents).toBe(2500);
    const firstNow = await c.order(first.id);
    expect(firstNow.items[0]).toMatchObject({ unitPriceCents: 1000, lineTotalCents: 2000 });
    expect(firstNow.totalCents).toBe(2000);
    expect((await c.product(s)).priceCents).toBe(1250);
  });

  test("when the admin withdraws a product, then new orders for it are refused naming it, and one placed before orders heard of it is rejected by inventory", async () => {
    const s = sku();
    await c.createProduct(s, 10);

    // orders' copy of the product is locked: it cannot learn of the withdrawal yet and still takes the order.
    const early = await c.withRowLocked("orders.catalog", s, async () => {
      const off = await shop.request(`/products/${s}`, { method: "PUT", as: admin, json: { name: `Product ${s}`, priceCents: 1000, active: false } });
      expect(off.status).toBe(200);
      return c.placeOk(alice, [{ sku: s, quantity: 1 }]);
    });

    const rejected = await c.orderEventually(early.id, "rejected");
    expect(rejected.statusReason).toBe(`insufficient stock: ${s} (requested 1, available 0)`);
    await c.ordersKnow(s, { active: false });
    const refused = await c.place(alice, [{ sku: s, quantity: 1 }]);
    expect(refused.status).toBe(422);
    expect(await json<Problem & { skus?: string[] }>(refused)).toMatchObject({ code: "ORDERS.UNKNOWN_SKU", skus: [s] });
    expect(await c.product(s)).toMatchObject({ active: false, onHand: 10, reserved: 0 });
  });
});

describe("retrying with an Idempotency-Key", () => {
  test("when a client repeats POST /orders with the same key and body, then it gets the same order back, only one order exists and it is reserved and confirmed once", async () => {
    const carol = newCustomer("idem");
    const s = sku();
    await c.createProduct(s, 10);
    const key = `order-${crypto.randomUUID()}`;
    const items = [{ sku: s, quantity: 2 }];

    const first = await c.place(carol, items, { "idempotency-key": key });
    expect(first.status).toBe(201);
    const order = await json<OrderView>(first);
    const replay = await c.place(carol, items, { "idempotency-key": key });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("location")).toBe(`/orders/${order.id}`);
    expect((await json<OrderView>(replay)).id).toBe(order.id);

    const otherBody = await c.place(carol, [{ sku: s, quantity: 3 }], { "idempotency-key": key });
    expect(otherBody.status).toBe(422);
    expect(await json<Problem>(otherBody)).toMatchObject({ code: "ORDERS.IDEMPOTENCY_KEY_REUSED" });

    const confirmed = await c.orderEventually(order.id, "confirmed");
    expect(history(confirmed)).toEqual(["pending", "confirmed"]);
    const lateReplay = await c.place(carol, items, { "idempotency-key": key });
    expect((await json<OrderView>(lateReplay)).id).toBe(order.id);

    expect((await c.orderPages(carol)).flat().map((o) => o.id)).toEqual([order.id]);
    expect(await c.product(s)).toMatchObject({ onHand: 10, reserved: 2, available: 8 });
    await c.expectMails(order.id, ["order-confirmed"], carol.email);
  });

  test("when another customer uses the same key, then it is their own new order", async () => {
    const s = sku();
    await c.createProduct(s, 10);
    const key = `order-${crypto.randomUUID()}`;
    const [dave, erin] = [newCustomer("idem"), newCustomer("idem")];

    const [forDave, forErin] = await Promise.all([dave, erin].map((who) => c.place(who, [{ sku: s, quantity: 1 }], { "idempotency-key": key })));

    expect([forDave!.status, forErin!.status]).toEqual([201, 201]);
    const [a, b] = [await json<OrderView>(forDave!), await json<OrderView>(forErin!)];
    expect(a.id).not.toBe(b.id);
    expect([a.customerId, b.customerId]).toEqual([dave.sub, erin.sub]);
  });
});
