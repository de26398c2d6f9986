import { deliveryLogFields, type BatchContext, type BatchItem } from "../../../src/platform/messaging/handler.ts";
import type { OrderPlaced } from "../../orders/contract.ts";
import { StockRejected, StockReserved } from "../contract.ts";
import { planReservation, type StockLine } from "../domain/reservation-plan.ts";
import { findShortages, type SkuAvailability } from "../domain/shortages.ts";
import type { InventoryDeps } from "../ports.ts";

/**
 * Handles `orders.order-placed`, for a batch of placements at once: each order reserves every line or none,
 * then answers `inventory.stock-reserved` or `inventory.stock-rejected` (with every short line). Orders are
 * decided in delivery order against the stock left by the ones before them. A placement whose cancel arrived
 * first reserves nothing and answers nothing — the cancel already answered `inventory.stock-released` with no
 * items, and the order is cancelled, so no reply is awaited.
 * Three statements per batch, whatever its size: the orders' locks; what they hold and the stock of their skus
 * (whose product rows it locks, in sku order, so what was read stays true); one write of every reservation.
 */
export async function reserveStock(deps: Pick<InventoryDeps, "reservations" | "logger" | "metrics">, items: BatchItem<typeof OrderPlaced>[], ctx: BatchContext): Promise<void> {
  const { tx, emit } = ctx;
  const orders = items.map(({ data, envelope }) => ({ orderId: data.orderId, plan: planReservation(data.items), cause: envelope }));
  const orderIds = [...new Set(orders.map((o) => o.orderId))];
  const skus = [...new Set(orders.flatMap((o) => o.plan.map((l) => l.sku)))];
  // Sent together, answered in one round trip: PostgreSQL runs the read only once the locks are granted, and a
  // statement's snapshot is taken when it starts, so the read sees whatever committed before the locks.
  const [, state] = await Promise.all([deps.reservations.lockOrders(tx, orderIds), deps.reservations.lockForPlacement(tx, orderIds, skus)]);

  const stock = new Map(state.stock);
  const holds: Array<{ orderId: string; lines: StockLine[] }> = [];
  const decided = new Set<string>();
  for (const { orderId, plan, cause } of orders) {
    // The database answers ids in lower case; a producer may not have written them so.
    if (state.cancelled.has(orderId.toLowerCase())) {
      deps.logger.info({ ...deliveryLogFields(cause), orderId }, "order was cancelled before it was placed; nothing reserved");
      continue;
    }
    if (state.reserved.has(orderId.toLowerCase()) || decided.has(orderId)) {
      // The same order placed twice under another message id: its stock is reserved once, already answered.
      deps.logger.warn({ ...deliveryLogFields(cause), orderId }, "order already has reservations; placement ignored");
      continue;
    }
    decided.add(orderId);
    // More than the catalog can ever count is short too (available never exceeds MAX_UNITS).
    const shortages = findShortages(plan, stock);
    if (shortages.length > 0) {
      await emit(cause, StockRejected, { orderId, shortages });
      ctx.afterCommit(() => deps.metrics.reservationsRejected.inc());
      continue;
    }
    for (const line of plan) take(stock, line);
    holds.push({ orderId, lines: plan });
    await emit(cause, StockReserved, { orderId, items: plan });
    ctx.afterCommit(() => deps.metrics.reservationsMade.inc());
  }
  await deps.reservations.reserveAndHold(tx, holds);
}

function take(stock: Map<string, SkuAvailability>, line: StockLine): void {
  const entry = stock.get(line.sku)!;
  stock.set(line.sku, { ...entry, available: entry.available - line.quantity });
}
