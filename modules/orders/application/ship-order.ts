import { OrderShipped } from "../contract.ts";
import type { Order } from "../domain/order.ts";
import type { OrdersDeps } from "../ports.ts";
import { orderSnapshot } from "./order-snapshot.ts";
import { requestStatusChange } from "./request-status-change.ts";

/**
 * Ships a confirmed order and emits `orders.order-shipped` in the same transaction (inventory turns the
 * reservation into an on-hand decrement). Admins only: the route refuses anyone else before this runs.
 * Another status: 409 `ORDERS.INVALID_TRANSITION`.
 */
export async function shipOrder(
  deps: Pick<OrdersDeps, "db" | "orders" | "outbox" | "metrics">,
  input: { orderId: string; adminId: string; correlationId: string },
): Promise<Order> {
  const shipped = await requestStatusChange(deps, {
    orderId: input.orderId,
    viewer: { id: input.adminId, isAdmin: true },
    to: "shipped",
    record: (tx, order) => deps.outbox.add(tx, OrderShipped, orderSnapshot(order), { correlationId: input.correlationId }),
  });
  deps.metrics.shipped.inc();
  return shipped;
}
