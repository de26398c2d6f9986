import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConflictError, RetryLaterError } from "../../../src/platform/errors.ts";
import { createEnvelope } from "../../../src/platform/messaging/envelope.ts";
import { createOutbox } from "../../../src/platform/messaging/outbox.ts";
import { eventually } from "../../../src/test-support/eventually.ts";
import { StockReserved } from "../../inventory/contract.ts";
import { OrderCancelled, OrderConfirmed, OrderPlaced, OrderShipped } from "../contract.ts";
import type { Order } from "../domain/order.ts";
import type { OrderStatus } from "../domain/order-status.ts";
import { catalogRepository } from "../infrastructure/catalog-repository.ts";
import { orderRepository } from "../infrastructure/order-repository.ts";
import type { OrderRepository } from "../ports.ts";
import { outbox } from "../infrastructure/schema.ts";
import { deliver, eventsFor, lockWaiters, openOrders, product, unique, type OrdersHarness } from "../test-support/orders-harness.ts";
import { cancelOrder } from "./cancel-order.ts";
import { applyStatusChange } from "./apply-status-change.ts";
import { placeOrder } from "./place-order.ts";
import { shipOrder } from "./ship-order.ts";
import { ordersMetrics } from "../infrastructure/orders-metrics.ts";
import { testModuleMetrics } from "../../../src/test-support/metrics.ts";

let h: OrdersHarness;
const events = createOutbox(outbox, "orders");
const ROUNDS = 40;
// Set ORDERS_RACE_REPORT=1 to print how the races went (the module's README quotes these numbers).
const report = (line: string) => process.env.ORDERS_RACE_REPORT && console.info(line);

beforeAll(async () => {
  h = await openOrders("orders_races");
});

afterAll(async () => {
  await h?.close();
});

const deps = (orders: OrderRepository = orderRepository) => ({ db: h.database.db, orders, outbox: events, metrics: ordersMetrics(testModuleMetrics("orders")) });

async function pendingOrder(): Promise<Order> {
  const sku = await product(h, 700);
  const id = `customer-${unique().toLowerCase()}`;
  return placeOrder(
    { db: h.database.db, orders: orderRepository, catalog: catalogRepository, outbox: events, metrics: ordersMetrics(testModuleMetrics("orders")) },
    { customer: { id, email: `${id}@example.com` }, items: [{ sku, quantity: 2 }], correlationId: `corr-${unique()}` },
  );
}

async function confirmedOrder(): Promise<Order> {
  const order = await pendingOrder();
  await deliver(h, StockReserved, { orderId: order.id, items: [{ sku: order.lines[0]!.sku, quantity: 2 }] });
  return order;
}

const customerOf = (order: Order) => ({ id: order.customerId, isAdmin: false });

/** StockReserved as the platform delivers it: a handler that lost a race says "retry later", and the message comes again. */
async function deliverReservation(order: Order): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await deliver(h, StockReserved, { orderId: order.id, items: [{ sku: order.lines[0]!.sku, quantity: 2 }] });
      return attempt;
    } catch (error) {
      if (attempt < 5 && error instanceof RetryLaterError && error.code === "ORDERS.CONCURRENT_UPDATE") continue;
      throw error;
    }
  }
}

/** The real repository, counting the conditional writes that found the order changed since it was read. */
function countingLostWrites() {
  const counter = { lost: 0 };
  const orders: OrderRepository = {
    ...orderRepository,
    async saveTransition(tx, previous, next, change) {
      const saved = await orderRepository.saveTransition(tx, previous, next, change);
      if (!saved) counter.lost++;
      return saved;
    },
  };
  return { counter, orders };
}

/** The real repository, except that right after each read someone else moves the order on (committed). */
function movedOnAfterEachRead(next: OrderStatus[]): OrderRepository {
  const queue = [...next];
  return {
    ...orderRepository,
    async findById(db, id) {
      const order = await orderRepository.findById(db, id);
      const to = queue.shift();
      if (to) await h.database.db.transaction((tx) => applyStatusChange({ orders: orderRepository }, tx, { orderId: id, to }));
      return order;
    },
  };
}

const conflictCode = (error: unknown) => (error instanceof ConflictError ? error.code : `not a conflict: ${String(error)}`);

describe("a cancel racing the confirmation (StockReserved)", () => {
  test(`when both run concurrently ${ROUNDS} times, then the order always ends cancelled, its history and events agree, and nothing is confirmed after the cancel`, async () => {
    const seen = { confirmedThenCancelled: 0, cancelledBeforeConfirmation: 0, cancelReEvaluated: 0, reservationRedelivered: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const order = await pendingOrder();
      const { counter, orders } = countingLostWrites();
      const [, reservationAttempts] = await Promise.all([
        cancelOrder(deps(orders), { orderId: order.id, viewer: customerOf(order), correlationId: "corr-cancel" }),
        deliverReservation(order),
      ]);

      const stored = await orderRepository.findById(h.database.db, order.id);
      const statuses = stored!.history.map((change) => change.status);
      expect(stored).toMatchObject({ status: "cancelled", statusReason: "cancelled by customer", version: statuses.length });
      expect([
        ["pending", "cancelled"],
        ["pending", "confirmed", "cancelled"],
      ]).toContainEqual(statuses);

      // Relay order (created_at, id). The events must tell the same story as the history, once each.
      const rows = await eventsFor(h, order.id);
      const wasConfirmed = statuses.includes("confirmed");
      expect(rows.map((row) => row.name)).toEqual(
        wasConfirmed ? [OrderPlaced.name, OrderConfirmed.name, OrderCancelled.name] : [OrderPlaced.name, OrderCancelled.name],
      );
      const cancelled = rows.at(-1)!.envelope;
      expect(cancelled.data).toMatchObject({ orderId: order.id, reason: "cancelled by customer", totalCents: 1400 });
      if (wasConfirmed) {
        const confirmed = rows[1]!.envelope;
        // Written before the cancel by every clock we have: envelope ids are UUIDv7 taken at write time.
        expect(confirmed.id < cancelled.id).toBe(true);
        expect(Date.parse(confirmed.occurredAt)).toBeLessThanOrEqual(Date.parse(cancelled.occurredAt));
        seen.confirmedThenCancelled++;
      } else {
        seen.cancelledBeforeConfirmation++;
      }
      if (counter.lost > 0) seen.cancelReEvaluated++;
      if (reservationAttempts > 1) seen.reservationRedelivered++;
    }
    report(`cancel vs confirmation, ${ROUNDS} rounds: ${JSON.stringify(seen)}`);
  });

  test("when the confirmation commits while the cancel waits for the row, then the cancel re-reads and cancels the confirmed order", async () => {
    const order = await pendingOrder();
    const handler = h.module.handlers.find((candidate) => candidate.event.name === StockReserved.name)!;
    const envelope = createEnvelope(StockReserved, { orderId: order.id, items: [{ sku: order.lines[0]!.sku, quantity: 2 }] }, "inventory", {
      correlationId: "corr-reserved",
    });
    let commitConfirmation!: () => void;
    const mayCommit = new Promise<void>((resolve) => (commitConfirmation = resolve));
    let confirmationWritten!: () => void;
    const written = new Promise<void>((resolve) => (confirmationWritten = resolve));

    const confirmation = h.database.db.transaction(async (tx) => {
      await handler.handleMany([{ data: envelope.data, envelope }], { tx, emit: (cause, e, d) => events.add(tx, e, d, { correlationId: cause.correlationId }), afterCommit: () => {} });
      confirmationWritten();
      await mayCommit;
    });
    await written;
    const { counter, orders } = countingLostWrites();
    // Reads the order as pending (the confirmation is not committed) and blocks on its row lock.
    const cancel = cancelOrder(deps(orders), { orderId: order.id, viewer: customerOf(order), reason: "too slow", correlationId: "corr-cancel" });
    await eventually(() => lockWaiters(h), { accept: (n) => n > 0, what: "the cancel to wait for the row lock" });
    commitConfirmation();
    await confirmation;

    const cancelled = await cancel;
    expect(counter.lost).toBe(1);
    expect(cancelled).toMatchObject({ status: "cancelled", statusReason: "too slow", version: 3 });
    expect(cancelled.history.map((change) => change.status)).toEqual(["pending", "confirmed", "cancelled"]);
    expect(await orderRepository.findById(h.database.db, order.id)).toEqual(cancelled);
    expect((await eventsFor(h, order.id)).map((row) => row.name)).toEqual([OrderPlaced.name, OrderConfirmed.name, OrderCancelled.name]);
  });
});

describe("a request that keeps losing the race", () => {
  test("when the order changes again after the re-read, then 409 ORDERS.CONCURRENT_UPDATE and nothing of the cancel is written", async () => {
    const order = await pendingOrder();
    const error = await cancelOrder(deps(movedOnAfterEachRead(["confirmed", "shipped"])), {
      orderId: order.id,
      viewer: customerOf(order),
      correlationId: "c",
    }).catch((e: unknown) => e);
    expect(conflictCode(error)).toBe("ORDERS.CONCURRENT_UPDATE");
    expect(await orderRepository.findById(h.database.db, order.id)).toMatchObject({ status: "shipped", version: 3 });
    expect(await eventsFor(h, order.id, OrderCancelled.name)).toEqual([]);
  });

  test("when the order was shipped between the read and the write, then the re-read refuses the cancel as a transition", async () => {
    const order = await confirmedOrder();
    const error = await cancelOrder(deps(movedOnAfterEachRead(["shipped"])), { orderId: order.id, viewer: customerOf(order), correlationId: "c" }).catch(
      (e: unknown) => e,
    );
    expect(conflictCode(error)).toBe("ORDERS.INVALID_TRANSITION");
    expect(error).toMatchObject({ details: { orderStatus: "shipped", allowed: ["pending", "confirmed"] } });
    expect(await eventsFor(h, order.id, OrderCancelled.name)).toEqual([]);
  });
});

describe("a cancel racing a shipment", () => {
  test(`when both run concurrently on a confirmed order ${ROUNDS} times, then exactly one wins each time and the other gets 409`, async () => {
    const winners = { cancelled: 0, shipped: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const order = await confirmedOrder();
      const [cancel, ship] = await Promise.allSettled([
        cancelOrder(deps(), { orderId: order.id, viewer: customerOf(order), correlationId: "corr-cancel" }),
        shipOrder(deps(), { orderId: order.id, adminId: "admin-1", correlationId: "corr-ship" }),
      ]);
      const outcomes = [cancel, ship];
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      const loser = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
      // The loser re-read the order: cancelled and shipped are both final, so it is refused as a transition.
      expect(conflictCode(loser.reason)).toBe("ORDERS.INVALID_TRANSITION");

      const winner: OrderStatus = cancel.status === "fulfilled" ? "cancelled" : "shipped";
      winners[winner === "cancelled" ? "cancelled" : "shipped"] += 1;
      const stored = await orderRepository.findById(h.database.db, order.id);
      expect(stored).toMatchObject({ status: winner, version: 3 });
      expect(stored!.history.map((change) => change.status)).toEqual(["pending", "confirmed", winner]);
      const names = (await eventsFor(h, order.id)).map((row) => row.name);
      expect(names).toEqual([OrderPlaced.name, OrderConfirmed.name, winner === "cancelled" ? OrderCancelled.name : OrderShipped.name]);
    }
    report(`cancel vs ship, ${ROUNDS} rounds: ${JSON.stringify(winners)}`);
  });
});
