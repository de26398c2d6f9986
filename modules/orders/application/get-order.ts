import { NotFoundError } from "../../../src/platform/errors.ts";
import { isVisibleTo, type Order, type Viewer } from "../domain/order.ts";
import type { OrdersDeps } from "../ports.ts";

/**
 * The order with its lines and history, for its owner or an admin. Anyone else gets the same
 * `ORDERS.NOT_FOUND` as for a missing order, so order ids cannot be probed.
 */
export async function getOrder(deps: Pick<OrdersDeps, "db" | "orders">, input: { orderId: string; viewer: Viewer }): Promise<Order> {
  const order = await deps.orders.findById(deps.db, input.orderId);
  if (!order || !isVisibleTo(order, input.viewer)) throw orderNotFound(input.orderId);
  return order;
}

export function orderNotFound(orderId: string): NotFoundError {
  return new NotFoundError("ORDERS.NOT_FOUND", `Order ${orderId} does not exist.`, { orderId });
}
