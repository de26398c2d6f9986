import { deliveryLogFields, type BatchContext, type BatchItem } from "../../../src/platform/messaging/handler.ts";
import type { StockRejected } from "../../inventory/contract.ts";
import { OrderRejected } from "../contract.ts";
import { shortageReason } from "../domain/stock-shortage.ts";
import type { OrdersDeps } from "../ports.ts";
import { applyStatusChanges } from "./apply-status-change.ts";
import { orderSnapshot } from "./order-snapshot.ts";

/**
 * inventory.stock-rejected, for a batch of answers: each pending order becomes `rejected`, its status reason
 * names every shortage, and `orders.order-rejected` is emitted in the same transaction. An order that is no
 * longer pending is left alone.
 */
export async function rejectOrders(deps: Pick<OrdersDeps, "orders" | "logger" | "metrics">, items: BatchItem<typeof StockRejected>[], ctx: BatchContext): Promise<void> {
  const reasons = items.map(({ data }) => shortageReason(data.shortages));
  const outcomes = await applyStatusChanges(
    deps,
    ctx.tx,
    items.map(({ data }, i) => ({ orderId: data.orderId, to: "rejected", reason: reasons[i] })),
  );
  for (const [i, outcome] of outcomes.entries()) {
    const { data, envelope } = items[i]!;
    if (!outcome.changed) {
      deps.logger.info({ ...deliveryLogFields(envelope), orderId: data.orderId, status: outcome.order.status }, "stock rejected for an order that is no longer pending; nothing to do");
      continue;
    }
    await ctx.emit(envelope, OrderRejected, { ...orderSnapshot(outcome.order), reason: reasons[i]!, shortages: data.shortages });
    ctx.afterCommit(() => deps.metrics.rejected.inc());
  }
}
