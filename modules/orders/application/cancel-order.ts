import { OrderCancelled } from "../contract.ts";
import { cancellationReason, type Order, type Viewer } from "../domain/order.ts";
import type { OrdersDeps } from "../ports.ts";
import { orderSnapshot } from "./order-snapshot.ts";
import { requestStatusChange } from "./request-status-change.ts";

/**
 * Cancels a pending or confirmed order for its customer or an admin, and emits
 * `orders.order-cancelled` (snapshot + reason) in the same transaction: inventory releases whatever
 * it reserved, also when the cancel overtook the reservation. The status reason is the reason given,
 * else "cancelled by customer" / "cancelled by admin". Another status: 409 `ORDERS.INVALID_TRANSITION`;
 * someone else's order: 404 `ORDERS.NOT_FOUND`.
 */
export async function cancelOrder(
  deps: Pick<OrdersDeps, "db" | "orders" | "outbox" | "metrics">,
  input: { orderId: string; viewer: Viewer; reason?: string; correlationId: string },
): Promise<Order> {
  const reason = cancellationReason(input.viewer, input.reason);
  const cancelled = await requestStatusChange(deps, {
    orderId: input.orderId,
    viewer: input.viewer,
    to: "cancelled",
    reason,
    record: (tx, order) => deps.outbox.add(tx, OrderCancelled, { ...orderSnapshot(order), reason }, { correlationId: input.correlationId }),
  });
  deps.metrics.cancelled.inc();
  return cancelled;
}
