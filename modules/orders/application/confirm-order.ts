import { deliveryLogFields, type BatchContext, type BatchItem } from "../../../src/platform/messaging/handler.ts";
import type { StockReserved } from "../../inventory/contract.ts";
import { OrderConfirmed } from "../contract.ts";
import type { OrdersDeps } from "../ports.ts";
import { applyStatusChanges } from "./apply-status-change.ts";
import { orderSnapshot } from "./order-snapshot.ts";

/**
 * inventory.stock-reserved, for a batch of answers: each pending order becomes `confirmed` and
 * `orders.order-confirmed` is emitted in the same transaction. An order that is no longer pending (cancelled
 * meanwhile, or already confirmed) is left alone: inventory learns of a cancellation from its own event.
 */
export async function confirmOrders(deps: Pick<OrdersDeps, "orders" | "logger" | "metrics">, items: BatchItem<typeof StockReserved>[], ctx: BatchContext): Promise<void> {
  const outcomes = await applyStatusChanges(deps, ctx.tx, items.map(({ data }) => ({ orderId: data.orderId, to: "confirmed" })));
  for (const [i, outcome] of outcomes.entries()) {
    if (!outcome.changed) {
      deps.logger.info({ ...deliveryLogFields(items[i]!.envelope), orderId: outcome.order.id, status: outcome.order.status }, "stock reserved for an order that is no longer pending; nothing to do");
      continue;
    }
    await ctx.emit(items[i]!.envelope, OrderConfirmed, orderSnapshot(outcome.order));
    const placedAt = outcome.order.createdAt.getTime();
    ctx.afterCommit(() => {
      deps.metrics.confirmed.inc();
      deps.metrics.confirmationSeconds.observe((Date.now() - placedAt) / 1000);
    });
  }
}
