import { Type as t } from "@sinclair/typebox";
import { Currency, Uuid } from "../../src/platform/formats.ts";
import { defineEvent } from "../../src/platform/messaging/event.ts";

/** The published language of the orders module: the only part of it other modules may import. */

const OrderLine = t.Object({
  sku: t.String({ minLength: 1, maxLength: 64 }),
  name: t.String(),
  quantity: t.Integer({ minimum: 1 }),
  unitPriceCents: t.Integer({ minimum: 0 }),
  lineTotalCents: t.Integer({ minimum: 0 }),
});

/** What every order event carries, so a consumer (e-mail, stock) needs no call back to orders. */
const OrderSnapshot = {
  orderId: Uuid(),
  customerId: t.String({ minLength: 1 }),
  customerEmail: t.String({ minLength: 3 }),
  items: t.Array(OrderLine, { minItems: 1 }),
  totalCents: t.Integer({ minimum: 0 }),
  currency: Currency(),
  /**
   * The order's version once this event's change is made: 1 for orders.order-placed, one more for each later event
   * of the same order (every transition emits exactly one event), so an order's events are numbered 1, 2, 3, …
   * without gaps and a consumer can put them back in order. Absent from events written before it was added.
   */
  version: t.Optional(t.Integer({ minimum: 1 })),
};

const Shortage = t.Object({ sku: t.String(), requested: t.Integer(), available: t.Integer() });

export const OrderPlaced = defineEvent("orders.order-placed", 1, t.Object(OrderSnapshot));

export const OrderConfirmed = defineEvent("orders.order-confirmed", 1, t.Object(OrderSnapshot));

export const OrderRejected = defineEvent(
  "orders.order-rejected",
  1,
  t.Object({ ...OrderSnapshot, reason: t.String(), shortages: t.Array(Shortage) }),
);

export const OrderCancelled = defineEvent("orders.order-cancelled", 1, t.Object({ ...OrderSnapshot, reason: t.Optional(t.String()) }));

export const OrderShipped = defineEvent("orders.order-shipped", 1, t.Object(OrderSnapshot));
