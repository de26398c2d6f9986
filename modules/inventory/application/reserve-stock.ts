import type { Logger } from "../../../src/platform/logger.ts";
import type { HandlerContext } from "../../../src/platform/messaging/handler.ts";
import type { EventData } from "../../../src/platform/messaging/event.ts";
import type { OrderPlaced } from "../../orders/contract.ts";
import { StockRejected, StockReserved } from "../contract.ts";
import { planReservation } from "../domain/reservation-plan.ts";
import { findShortages } from "../domain/shortages.ts";
import type { ProductRepository } from "../infrastructure/product-repository.ts";
import type { ReservationRepository } from "../infrastructure/reservation-repository.ts";

export interface ReserveStockDeps {
  products: ProductRepository;
  reservations: ReservationRepository;
  logger: Logger;
}

/**
 * Handles `orders.order-placed`: reserves every line or none, then answers `inventory.stock-reserved` or
 * `inventory.stock-rejected` (with every short line). A placement whose cancel arrived first reserves
 * nothing and answers nothing — the cancel already answered `inventory.stock-released` with no items, and the
 * order is cancelled, so no reply is awaited.
 * The order's lock, then its skus' product rows locked in sku order (no deadlock between two orders), then
 * one write: four statements, whatever the number of lines.
 */
export async function reserveStock(
  deps: ReserveStockDeps,
  order: Pick<EventData<typeof OrderPlaced>, "orderId" | "items">,
  ctx: Pick<HandlerContext, "tx" | "emit">,
): Promise<void> {
  const { tx, emit } = ctx;
  const { orderId } = order;
  const plan = planReservation(order.items);
  await deps.reservations.lockOrder(tx, orderId);
  const state = await deps.reservations.lockForPlacement(tx, orderId, plan.map((line) => line.sku));
  if (state.cancelled) {
    deps.logger.info({ orderId }, "order was cancelled before it was placed; nothing reserved");
    return;
  }
  if (state.reserved) {
    // The same order placed twice under another message id: its stock is reserved once, already answered.
    deps.logger.warn({ orderId }, "order already has reservations; placement ignored");
    return;
  }
  // More than the catalog can ever count is short too (available never exceeds MAX_UNITS).
  const shortages = findShortages(plan, state.stock);
  if (shortages.length > 0) {
    await emit(StockRejected, { orderId, shortages });
    return;
  }
  await deps.reservations.reserveAndHold(tx, orderId, plan);
  await emit(StockReserved, { orderId, items: plan });
}
