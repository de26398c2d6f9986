import type { Executor } from "../../../src/platform/db.ts";
import { ConflictError } from "../../../src/platform/http/errors.ts";
import { isVisibleTo, transitionOrder, type Order, type Viewer } from "../domain/order.ts";
import type { OrderStatus } from "../domain/order-status.ts";
import type { OrderRepository } from "../infrastructure/order-repository.ts";
import { orderNotFound } from "./get-order.ts";

export type StatusChangeOutcome =
  /** The order moved to the new status (saved, history written). */
  | { changed: true; order: Order }
  /** The lifecycle does not allow it from the order's current status; nothing was written. */
  | { changed: false; order: Order };

/**
 * Moves an order to `to` inside `tx` when the lifecycle allows it. The write is conditional on the
 * status and version that were read, so of two concurrent transitions only one can win; the loser
 * gets ConflictError `ORDERS.CONCURRENT_UPDATE` (a handler is then retried and sees the new status).
 * A missing order is NotFoundError `ORDERS.NOT_FOUND`, and so is one that `viewer` (when given) may not see.
 */
export async function changeOrderStatus(
  deps: { orders: OrderRepository },
  tx: Executor,
  input: { orderId: string; to: OrderStatus; reason?: string; at?: Date; viewer?: Viewer },
): Promise<StatusChangeOutcome> {
  const order = await deps.orders.findById(tx, input.orderId);
  if (!order || (input.viewer && !isVisibleTo(order, input.viewer))) throw orderNotFound(input.orderId);
  const transition = transitionOrder(order, input.to, input.at ?? new Date(), input.reason ?? null);
  if (!transition.ok) return { changed: false, order };
  const saved = await deps.orders.saveTransition(tx, order, transition.order, transition.change);
  if (!saved) {
    throw new ConflictError("ORDERS.CONCURRENT_UPDATE", `Order ${order.id} changed while it was being updated; try again.`, {
      orderId: order.id,
    });
  }
  return { changed: true, order: transition.order };
}
