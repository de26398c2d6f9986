import type { HandlerContext } from "../../../src/platform/messaging/handler.ts";
import type { EventData } from "../../../src/platform/messaging/event.ts";
import type { OrderCancelled } from "../../orders/contract.ts";
import { StockReleased } from "../contract.ts";
import { planReservation } from "../domain/reservation-plan.ts";
import type { InventoryDeps } from "../ports.ts";

/**
 * Handles `orders.order-cancelled`: gives back exactly what the order still holds (once — released lines are
 * not held any more) and answers `inventory.stock-released` with those lines, possibly none. When the order
 * never reserved anything, the cancel may have overtaken its placement: it is remembered so that the late
 * placement reserves nothing.
 */
export async function releaseStock(
  deps: Pick<InventoryDeps, "products" | "reservations">,
  data: Pick<EventData<typeof OrderCancelled>, "orderId">,
  ctx: Pick<HandlerContext, "tx" | "emit">,
): Promise<void> {
  const { tx, emit } = ctx;
  const { orderId } = data;
  await deps.reservations.lockOrder(tx, orderId);
  // Sorted like a reservation, so products rows are locked in the same order by every transaction.
  const released = planReservation(await deps.reservations.settleHeld(tx, orderId, "released"));
  for (const line of released) await deps.products.release(tx, line.sku, line.quantity);
  if (released.length === 0 && !(await deps.reservations.exists(tx, orderId))) {
    await deps.reservations.rememberCancelled(tx, orderId);
  }
  await emit(StockReleased, { orderId, items: released });
}
