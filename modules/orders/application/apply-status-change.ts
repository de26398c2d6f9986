import type { Executor } from "../../../src/platform/db.ts";
import { ConflictError, RetryLaterError } from "../../../src/platform/errors.ts";
import { isVisibleTo, transitionOrder, type Order, type StatusChange, type Viewer } from "../domain/order.ts";
import type { OrderStatus } from "../domain/order-status.ts";
import type { OrdersDeps } from "../ports.ts";
import { orderNotFound } from "./get-order.ts";

export type StatusChangeOutcome =
  /** The order moved to the new status (saved, history written). */
  | { changed: true; order: Order }
  /** The lifecycle does not allow it from the order's current status; nothing was written. */
  | { changed: false; order: Order };

/**
 * Moves an order to `to` inside `tx` when the lifecycle allows it. The write is conditional on the
 * status and version that were read, so of two concurrent transitions only one can win; the loser
 * gets ConflictError `ORDERS.CONCURRENT_UPDATE` (the request is evaluated again, see request-status-change.ts).
 * A missing order is NotFoundError `ORDERS.NOT_FOUND`, and so is one that `viewer` (when given) may not see.
 */
export async function applyStatusChange(
  deps: Pick<OrdersDeps, "orders">,
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

/**
 * Moves several orders inside `tx` (inventory's answers to a batch of placements), each to `to` when the
 * lifecycle allows it, deciding in order; two statements however many there are: one read of the orders, one
 * conditional write of every change. Outcomes are in request order. When another transaction changed one of the
 * orders since it was read, nothing is written and RetryLaterError `ORDERS.CONCURRENT_UPDATE` is thrown (the
 * consumer retries the batch one message at a time, which then sees the new statuses). A missing order is NotFoundError `ORDERS.NOT_FOUND`.
 */
export async function applyStatusChanges(
  deps: Pick<OrdersDeps, "orders">,
  tx: Executor,
  requests: ReadonlyArray<{ orderId: string; to: OrderStatus; reason?: string }>,
  at: Date = new Date(),
): Promise<StatusChangeOutcome[]> {
  const current = await deps.orders.findMany(tx, [...new Set(requests.map((r) => r.orderId))]);
  const writes: Array<{ previous: Order; next: Order; change: StatusChange }> = [];
  const outcomes = requests.map((request): StatusChangeOutcome => {
    const order = current.get(request.orderId);
    if (!order) throw orderNotFound(request.orderId);
    const transition = transitionOrder(order, request.to, at, request.reason ?? null);
    if (!transition.ok) return { changed: false, order };
    // One write per order: the lifecycle has no cycle, so a second request to the same status is refused above.
    if (writes.some((w) => w.next.id === order.id)) throw new Error(`order ${order.id} would change twice in one batch`);
    writes.push({ previous: order, next: transition.order, change: transition.change });
    current.set(order.id, transition.order);
    return { changed: true, order: transition.order };
  });
  if (writes.length > 0 && !(await deps.orders.saveTransitions(tx, writes))) {
    throw new RetryLaterError("ORDERS.CONCURRENT_UPDATE", "Orders changed while they were being updated; try again.", {
      orderIds: writes.map((w) => w.next.id),
    });
  }
  return outcomes;
}
