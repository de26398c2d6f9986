import type { Logger } from "../../../src/platform/logger.ts";
import type { HandlerContext } from "../../../src/platform/messaging/handler.ts";
import type { EventData } from "../../../src/platform/messaging/event.ts";
import type { StockReserved } from "../../inventory/contract.ts";
import { OrderConfirmed } from "../contract.ts";
import type { OrderRepository } from "../infrastructure/order-repository.ts";
import { changeOrderStatus } from "./change-order-status.ts";
import { orderSnapshot } from "./order-snapshot.ts";

/**
 * inventory.stock-reserved: the pending order becomes `confirmed` and `orders.order-confirmed` is
 * emitted in the same transaction. An order that is no longer pending (cancelled meanwhile, or
 * already confirmed) is left alone: inventory learns of a cancellation from its own event.
 */
export async function confirmOrder(
  deps: { orders: OrderRepository; logger: Logger },
  ctx: Pick<HandlerContext, "tx" | "emit">,
  data: EventData<typeof StockReserved>,
): Promise<void> {
  const outcome = await changeOrderStatus(deps, ctx.tx, { orderId: data.orderId, to: "confirmed" });
  if (!outcome.changed) {
    deps.logger.info({ orderId: data.orderId, status: outcome.order.status }, "stock reserved for an order that is no longer pending; nothing to do");
    return;
  }
  await ctx.emit(OrderConfirmed, orderSnapshot(outcome.order));
}
