import { describe, expect, test } from "bun:test";
import { cancellationReason, isVisibleTo, openOrder, transitionOrder } from "./order.ts";

const placedAt = new Date("2025-01-01T10:00:00.000Z");
const later = new Date("2025-01-01T10:05:00.000Z");

function newOrder() {
  return openOrder({
    id: "0190a000-0000-7000-8000-000000000001",
    customer: { id: "alice", email: "alice@example.com" },
    lines: [{ lineNo: 1, sku: "SKU-A", name: "A", quantity: 2, unitPriceCents: 150, lineTotalCents: 300 }],
    totalCents: 300,
    currency: "EUR",
    at: placedAt,
  });
}

describe("order", () => {
  test("when an order is opened, then it is pending at version 1 with one history entry", () => {
    const order = newOrder();
    expect(order).toMatchObject({ status: "pending", statusReason: null, version: 1, customerId: "alice", createdAt: placedAt, updatedAt: placedAt });
    expect(order.history).toEqual([{ status: "pending", at: placedAt, reason: null }]);
  });

  test("when an allowed transition is applied, then status, reason, version, updatedAt and history move on", () => {
    const result = transitionOrder(newOrder(), "rejected", later, "insufficient stock");
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.order).toMatchObject({ status: "rejected", statusReason: "insufficient stock", version: 2, updatedAt: later, createdAt: placedAt });
    expect(result.change).toEqual({ status: "rejected", at: later, reason: "insufficient stock" });
    expect(result.order.history.map((h) => h.status)).toEqual(["pending", "rejected"]);
  });

  test("when a transition is not allowed, then it is refused and the order is untouched", () => {
    const order = newOrder();
    const shipped = transitionOrder(order, "shipped", later);
    expect(shipped).toEqual({ ok: false, from: "pending", to: "shipped" });
    expect(order.status).toBe("pending");
  });

  test("when someone looks at an order, then only its customer and admins see it", () => {
    const order = newOrder();
    expect(isVisibleTo(order, { id: "alice", isAdmin: false })).toBe(true);
    expect(isVisibleTo(order, { id: "bob", isAdmin: false })).toBe(false);
    expect(isVisibleTo(order, { id: "root", isAdmin: true })).toBe(true);
  });

  test("when an order is cancelled, then the reason given is kept, else it says who cancelled", () => {
    const alice = { id: "alice", isAdmin: false };
    const admin = { id: "root", isAdmin: true };
    expect(cancellationReason(alice, "  found it cheaper ")).toBe("found it cheaper");
    expect(cancellationReason(alice)).toBe("cancelled by customer");
    expect(cancellationReason(alice, "   ")).toBe("cancelled by customer");
    expect(cancellationReason(admin)).toBe("cancelled by admin");
    expect(cancellationReason(admin, "fraud check failed")).toBe("fraud check failed");
  });
});
