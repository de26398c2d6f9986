import type { Logger } from "../../../src/platform/logger.ts";
import type { HandlerContext } from "../../../src/platform/messaging/handler.ts";
import type { Transaction } from "../../../src/platform/db.ts";
import type { EventData } from "../../../src/platform/messaging/event.ts";
import type { OrderPlaced } from "../../orders/contract.ts";
import { StockRejected, StockReserved } from "../contract.ts";
import { planReservation, type StockLine } from "../domain/reservation-plan.ts";
import { findShortages } from "../domain/shortages.ts";
import { MAX_UNITS } from "../domain/stock.ts";
import type { ProductRepository } from "../infrastructure/product-repository.ts";
import type { ReservationRepository } from "../infrastructure/reservation-repository.ts";

export interface ReserveStockDeps {
  products: ProductRepository;
  reservations: ReservationRepository;
  logger: Logger;
}

/** Thrown inside the savepoint to undo the lines reserved before the one that could not be. */
class LineNotReservable extends Error {}

// A failed attempt followed by a read that finds everything available means stock came back in between:
// try again rather than reject an order that can be served. Bounded so a flapping catalog cannot spin us.
const MAX_ATTEMPTS = 3;

/**
 * Handles `orders.order-placed`: reserves every line or none, then answers `inventory.stock-reserved` or
 * `inventory.stock-rejected` (with every short line). A placement whose cancel arrived first reserves
 * nothing and answers nothing — the cancel already answered `inventory.stock-released` with no items, and the
 * order is cancelled, so no reply is awaited.
 */
export async function reserveStock(
  deps: ReserveStockDeps,
  order: Pick<EventData<typeof OrderPlaced>, "orderId" | "items">,
  ctx: Pick<HandlerContext, "tx" | "emit">,
): Promise<void> {
  const { tx, emit } = ctx;
  const { orderId } = order;
  await deps.reservations.lockOrder(tx, orderId);
  if (await deps.reservations.isCancelled(tx, orderId)) {
    deps.logger.info({ orderId }, "order was cancelled before it was placed; nothing reserved");
    return;
  }
  if (await deps.reservations.exists(tx, orderId)) {
    // The same order placed twice under another message id: its stock is reserved once, already answered.
    deps.logger.warn({ orderId }, "order already has reservations; placement ignored");
    return;
  }

  const plan = planReservation(order.items);
  for (let attempt = 1; ; attempt++) {
    if (await tryReserveAll(deps.products, tx, plan)) {
      await deps.reservations.hold(tx, orderId, plan);
      await emit(StockReserved, { orderId, items: plan });
      return;
    }
    const shortages = findShortages(plan, await deps.products.availability(tx, plan.map((line) => line.sku)));
    if (shortages.length > 0) {
      await emit(StockRejected, { orderId, shortages });
      return;
    }
    if (attempt >= MAX_ATTEMPTS) throw new Error(`stock of order ${orderId} kept changing during ${attempt} reservation attempts`);
  }
}

/**
 * Reserves the lines in plan (sku) order inside a savepoint: all of them, or — rolled back to the savepoint —
 * none, while the surrounding transaction (with the inbox record) goes on.
 */
async function tryReserveAll(products: ProductRepository, tx: Transaction, plan: StockLine[]): Promise<boolean> {
  // More than the catalog can ever count is short by definition (and would overflow the SQL parameter).
  if (plan.some((line) => line.quantity > MAX_UNITS)) return false;
  try {
    await tx.transaction(async (savepoint) => {
      for (const line of plan) {
        if (!(await products.reserve(savepoint, line.sku, line.quantity))) throw new LineNotReservable(line.sku);
      }
    });
    return true;
  } catch (error) {
    if (error instanceof LineNotReservable) return false;
    throw error;
  }
}
