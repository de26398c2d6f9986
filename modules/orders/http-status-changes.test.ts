import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkData } from "../../src/platform/messaging/envelope.ts";
import { StockRejected, StockReserved } from "../inventory/contract.ts";
import { applyStatusChange } from "./application/apply-status-change.ts";
import { OrderCancelled, OrderShipped } from "./contract.ts";
import { orderRepository } from "./infrastructure/order-repository.ts";
import {
  caller,
  deliver,
  eventsFor,
  json,
  openOrders,
  place,
  product,
  request,
  type Caller,
  type OrdersHarness,
} from "./test-support/orders-harness.ts";

let h: OrdersHarness;

beforeAll(async () => {
  h = await openOrders("orders_http_status");
});

afterAll(async () => {
  await h?.close();
});

async function orderIn(status: "pending" | "confirmed" | "rejected" | "cancelled" | "shipped", owner?: Caller) {
  const sku = await product(h, 1250);
  const order = await place(h, owner ?? (await caller()), [{ sku, quantity: 2 }]);
  if (status === "rejected") await deliver(h, StockRejected, { orderId: order.id, shortages: [{ sku, requested: 2, available: 0 }] });
  if (status === "confirmed" || status === "shipped") await deliver(h, StockReserved, { orderId: order.id, items: [{ sku, quantity: 2 }] });
  if (status === "cancelled" || status === "shipped") {
    await h.database.db.transaction((tx) => applyStatusChange({ orders: orderRepository }, tx, { orderId: order.id, to: status }));
  }
  return order;
}

const cancel = (id: string, as?: Caller, body?: unknown, headers?: Record<string, string>) =>
  request(h, "POST", `/orders/${id}/cancel`, { as, body, headers });
const ship = (id: string, as?: Caller) => request(h, "POST", `/orders/${id}/ship`, { as });

describe("POST /orders/:id/cancel", () => {
  test("when the owner cancels a pending order without a body, then 200 with the order as GET shows it, and orders.order-cancelled is in the outbox", async () => {
    const alice = await caller();
    const order = await orderIn("pending", alice);

    const res = await cancel(order.id, alice, undefined, { "x-correlation-id": "cancel-flow-1" });

    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ id: order.id, status: "cancelled", statusReason: "cancelled by customer", version: 2, totalCents: 2500 });
    expect(body.history).toEqual([
      { status: "pending", at: order.createdAt },
      { status: "cancelled", at: body.updatedAt, reason: "cancelled by customer" },
    ]);
    expect(await json(await request(h, "GET", `/orders/${order.id}`, { as: alice }))).toEqual(body);

    const events = await eventsFor(h, order.id, OrderCancelled.name);
    expect(events).toHaveLength(1);
    const envelope = events[0]!.envelope;
    expect(envelope.correlationId).toBe("cancel-flow-1");
    expect(checkData(OrderCancelled, envelope.data)).toBeUndefined();
    expect(envelope.data).toMatchObject({
      orderId: order.id,
      customerId: alice.principal.sub,
      customerEmail: alice.principal.email,
      totalCents: 2500,
      currency: "EUR",
      reason: "cancelled by customer",
      version: 2,
    });
  });

  test("when the owner cancels a confirmed order with a reason, then the reason is the status reason and travels in the event", async () => {
    const alice = await caller();
    const order = await orderIn("confirmed", alice);

    const res = await cancel(order.id, alice, { reason: "  found it cheaper elsewhere " });

    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ status: "cancelled", statusReason: "found it cheaper elsewhere", version: 3 });
    expect(body.history.map((change: { status: string }) => change.status)).toEqual(["pending", "confirmed", "cancelled"]);
    const [event] = await eventsFor(h, order.id, OrderCancelled.name);
    expect(event?.envelope.data).toMatchObject({ orderId: order.id, reason: "found it cheaper elsewhere", version: 3 });
  });

  test("when an admin cancels someone's order, then it is cancelled by admin; another customer gets 404 and changes nothing", async () => {
    const [alice, mallory, admin] = [await caller(), await caller(), await caller("admin")];
    const order = await orderIn("confirmed", alice);

    const byOther = await cancel(order.id, mallory);
    expect(byOther.status).toBe(404);
    expect(await json(byOther)).toMatchObject({ code: "ORDERS.NOT_FOUND" });
    expect(await eventsFor(h, order.id, OrderCancelled.name)).toEqual([]);
    expect((await orderRepository.findById(h.database.db, order.id))?.status).toBe("confirmed");

    const byAdmin = await cancel(order.id, admin, {});
    expect(byAdmin.status).toBe(200);
    expect(await json(byAdmin)).toMatchObject({ status: "cancelled", statusReason: "cancelled by admin", customerId: alice.principal.sub });
    expect(await eventsFor(h, order.id, OrderCancelled.name)).toHaveLength(1);
  });

  for (const status of ["rejected", "cancelled", "shipped"] as const) {
    test(`when the order is ${status}, then 409 ORDERS.INVALID_TRANSITION names the status and nothing changes`, async () => {
      const alice = await caller();
      const order = await orderIn(status, alice);
      const before = await orderRepository.findById(h.database.db, order.id);
      const cancelledEvents = (await eventsFor(h, order.id, OrderCancelled.name)).length;

      const res = await cancel(order.id, alice);

      expect(res.status).toBe(409);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = await json(res);
      // `status` is the HTTP status in a problem document, so the order's status comes as `orderStatus`.
      expect(problem).toMatchObject({ status: 409, code: "ORDERS.INVALID_TRANSITION", orderStatus: status, allowed: ["pending", "confirmed"] });
      expect(problem.detail).toContain(`is ${status}`);
      expect(await orderRepository.findById(h.database.db, order.id)).toEqual(before);
      expect(await eventsFor(h, order.id, OrderCancelled.name)).toHaveLength(cancelledEvents);
    });
  }

  test("when the request is bad, then 401 without a token (before anything else), 404 for an unknown order, 422 naming the field", async () => {
    const alice = await caller();
    const order = await orderIn("pending", alice);
    expect((await cancel("not-a-uuid", undefined, { reason: 7 })).status).toBe(401);

    const missing = await cancel(Bun.randomUUIDv7(), alice);
    expect(missing.status).toBe(404);

    const tooLong = await cancel(order.id, alice, { reason: "x".repeat(501) });
    expect(tooLong.status).toBe(422);
    expect((await json(tooLong)).errors).toEqual([expect.objectContaining({ in: "body", field: "/reason" })]);
    const badId = await cancel("not-a-uuid", alice);
    expect(badId.status).toBe(422);
    expect((await json(badId)).errors).toEqual([expect.objectContaining({ in: "params", field: "/id" })]);
    expect((await orderRepository.findById(h.database.db, order.id))?.status).toBe("pending");

    const longest = await cancel(order.id, alice, { reason: "x".repeat(500) });
    expect(longest.status).toBe(200);
  });
});

describe("POST /orders/:id/ship", () => {
  test("when an admin ships a confirmed order, then 200 shipped and orders.order-shipped carries the snapshot", async () => {
    const [alice, admin] = [await caller(), await caller("admin")];
    const order = await orderIn("confirmed", alice);

    const res = await request(h, "POST", `/orders/${order.id}/ship`, { as: admin, headers: { "x-correlation-id": "ship-1" } });

    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ id: order.id, status: "shipped", statusReason: null, version: 3, customerId: alice.principal.sub });
    expect(body.history.map((change: { status: string }) => change.status)).toEqual(["pending", "confirmed", "shipped"]);
    expect(await json(await request(h, "GET", `/orders/${order.id}`, { as: alice }))).toEqual(body);
    const events = await eventsFor(h, order.id, OrderShipped.name);
    expect(events).toHaveLength(1);
    expect(events[0]!.envelope.correlationId).toBe("ship-1");
    expect(checkData(OrderShipped, events[0]!.envelope.data)).toBeUndefined();
    expect(events[0]!.envelope.data).toMatchObject({ orderId: order.id, customerEmail: alice.principal.email, totalCents: 2500, version: 3 });
  });

  for (const status of ["pending", "rejected", "cancelled", "shipped"] as const) {
    test(`when the order is ${status}, then 409 ORDERS.INVALID_TRANSITION names the status and allows only confirmed`, async () => {
      const order = await orderIn(status);
      const res = await ship(order.id, await caller("admin"));
      expect(res.status).toBe(409);
      const problem = await json(res);
      expect(problem).toMatchObject({ code: "ORDERS.INVALID_TRANSITION", orderStatus: status, allowed: ["confirmed"], to: "shipped", orderId: order.id });
      expect(problem.detail).toContain(`is ${status}`);
      expect((await orderRepository.findById(h.database.db, order.id))?.status).toBe(status);
    });
  }

  test("when a customer asks, then 403 even for their own order and before the id is validated; without a token 401", async () => {
    const alice = await caller();
    const order = await orderIn("confirmed", alice);

    const own = await ship(order.id, alice);
    expect(own.status).toBe(403);
    expect(await json(own)).toMatchObject({ code: "AUTH.ADMIN_ONLY" });
    expect((await ship("not-a-uuid", alice)).status).toBe(403);
    expect((await ship(order.id)).status).toBe(401);
    expect((await ship("not-a-uuid")).status).toBe(401);
    expect((await orderRepository.findById(h.database.db, order.id))?.status).toBe("confirmed");
    expect(await eventsFor(h, order.id, OrderShipped.name)).toEqual([]);

    const admin = await caller("admin");
    expect((await ship("not-a-uuid", admin)).status).toBe(422);
    expect((await ship(Bun.randomUUIDv7(), admin)).status).toBe(404);
  });
});
