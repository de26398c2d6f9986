import type { Logger } from "../../../src/platform/logger.ts";
import type { HandlerContext } from "../../../src/platform/messaging/handler.ts";
import type { EventData } from "../../../src/platform/messaging/event.ts";
import type { StockRejected } from "../../inventory/contract.ts";
import { OrderRejected } from "../contract.ts";
import { shortageReason } from "../domain/stock-shortage.ts";
import type { OrderRepository } from "../infrastructure/order-repository.ts";
import { changeOrderStatus } from "./change-order-status.ts";
import { orderSnapshot } from "./order-snapshot.ts";

/**
 * inventory.stock-rejected: the pending order becomes `rejected`, its status reason names every
 * shortage, and `orders.order-rejected` is emitted in the same transaction. An order that is no
 * longer pending is left alone.
 */
export async function rejectOrder(
  deps: { orders: OrderRepository; logger: Logger },
  ctx: Pick<HandlerContext, "tx" | "emit">,
  data: EventData<typeof StockRejected>,
): Promise<void> {
  const reason = shortageReason(data.shortages);
  const outcome = await changeOrderStatus(deps, ctx.tx, { orderId: data.orderId, to: "rejected", reason });
  if (!outcome.changed) {
    deps.logger.info({ orderId: data.orderId, status: outcome.order.status }, "stock rejected for an order that is no longer pending; nothing to do");
    return;
  }
  await ctx.emit(OrderRejected, { ...orderSnapshot(outcome.order), reason, shortages: data.shortages });
}
