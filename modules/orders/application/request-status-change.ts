import { classify } from "../../../src/platform/failures.ts";
import type { Executor, Transaction } from "../../../src/platform/db.ts";
import { ConflictError } from "../../../src/platform/errors.ts";
import type { Order, Viewer } from "../domain/order.ts";
import { statusesLeadingTo, type OrderStatus } from "../domain/order-status.ts";
import type { OrdersDeps } from "../ports.ts";
import { applyStatusChange } from "./apply-status-change.ts";

export interface StatusChangeRequest {
  orderId: string;
  /** Who asks: an order they may not see is 404, like a missing one. */
  viewer: Viewer;
  to: OrderStatus;
  reason?: string;
  /** Writes what goes with the change (its event) in the same transaction. */
  record(tx: Transaction, order: Order): Promise<unknown>;
}

// The first attempt and one re-evaluation: enough for a request that raced one event handler.
const ATTEMPTS = 2;

/**
 * A status change someone asked for (cancel, ship), with what goes with it, in one transaction.
 * The lifecycle refusing it is ConflictError `ORDERS.INVALID_TRANSITION` naming the current status.
 * When a concurrent transition wins the race (`ORDERS.CONCURRENT_UPDATE`), the request is evaluated
 * once more against the new status in a new transaction: a cancel that raced the confirmation still
 * cancels the now confirmed order, while a cancel that raced a shipment is refused as a transition.
 */
export async function requestStatusChange(deps: Pick<OrdersDeps, "db" | "orders">, request: StatusChangeRequest): Promise<Order> {
  for (let attempt = 1; ; attempt++) {
    try {
      // A new transaction per attempt: its events are stamped after the winner's, in the order they happened.
      return await deps.db.transaction(async (tx) => {
        const outcome = await applyStatusChange(deps, tx, request);
        if (!outcome.changed) throw invalidTransition(outcome.order, request.to);
        await request.record(tx, outcome.order);
        return outcome.order;
      });
    } catch (error) {
      if (attempt < ATTEMPTS && error instanceof ConflictError && error.code === "ORDERS.CONCURRENT_UPDATE") continue;
      // The database chose this transaction as a deadlock's victim (on a customer's open-unit counts, with a
      // placement): it rolled back whole, so it is run again.
      if (attempt < ATTEMPTS && classify(error).kind === "contention") continue;
      throw error;
    }
  }
}

function invalidTransition(order: Order, to: OrderStatus): ConflictError {
  const allowed = statusesLeadingTo(to);
  return new ConflictError(
    "ORDERS.INVALID_TRANSITION",
    `Order ${order.id} is ${order.status}; only a ${allowed.join(" or ")} order can be ${to}.`,
    // Not `status`: in a problem document that is the HTTP status.
    { orderId: order.id, orderStatus: order.status, to, allowed },
  );
}
