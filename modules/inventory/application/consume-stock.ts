import type { HandlerContext } from "../../../src/platform/messaging/handler.ts";
import type { EventData } from "../../../src/platform/messaging/event.ts";
import type { OrderShipped } from "../../orders/contract.ts";
import { planReservation } from "../domain/reservation-plan.ts";
import type { InventoryDeps } from "../ports.ts";

/**
 * Handles `orders.order-shipped`: the order's held units leave the warehouse — its reservations become
 * `consumed` and each product's on-hand and reserved stock drop together, so available stock is unchanged.
 */
export async function consumeStock(
  deps: Pick<InventoryDeps, "products" | "reservations" | "logger">,
  data: Pick<EventData<typeof OrderShipped>, "orderId">,
  ctx: Pick<HandlerContext, "tx">,
): Promise<void> {
  const { tx } = ctx;
  const { orderId } = data;
  await deps.reservations.lockOrder(tx, orderId);
  const consumed = planReservation(await deps.reservations.settleHeld(tx, orderId, "consumed"));
  for (const line of consumed) await deps.products.consume(tx, line.sku, line.quantity);
  // Only a confirmed (fully reserved) order can ship; nothing held means it shipped before, or `shop check` has work.
  if (consumed.length === 0) deps.logger.warn({ orderId }, "shipped order holds no stock; nothing consumed");
}
