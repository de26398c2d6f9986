import type { EventData } from "../../../src/platform/messaging/event.ts";
import type { OrderPlaced } from "../contract.ts";
import type { Order } from "../domain/order.ts";

/** What every order event carries (contract.ts OrderSnapshot), so consumers never call back. */
export type OrderSnapshot = EventData<typeof OrderPlaced>;

export function orderSnapshot(order: Order): OrderSnapshot {
  return {
    orderId: order.id,
    customerId: order.customerId,
    customerEmail: order.customerEmail,
    items: order.lines.map(({ sku, name, quantity, unitPriceCents, lineTotalCents }) => ({ sku, name, quantity, unitPriceCents, lineTotalCents })),
    totalCents: order.totalCents,
    currency: order.currency,
    version: order.version,
  };
}
