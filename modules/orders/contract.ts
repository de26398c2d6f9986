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

// The descriptions below are the events' documentation: they reach the AsyncAPI document (GET /docs/asyncapi.json).

/** What every order event carries, so a consumer (e-mail, stock) needs no call back to orders. */
const OrderSnapshot = {
  orderId: Uuid(),
  customerId: t.String({ minLength: 1 }),
  customerEmail: t.String({ minLength: 3 }),
  items: t.Array(OrderLine, { minItems: 1 }),
  totalCents: t.Integer({ minimum: 0 }),
  currency: Currency(),
  version: t.Optional(
    t.Integer({
      minimum: 1,
      description:
        "The order's version once this event's change is made: 1 for orders.order-placed, one more for each later event " +
        "of the same order (every transition emits exactly one event), so an order's events are numbered 1, 2, 3, … " +
        "without gaps and a consumer can put them back in order. Absent from events written before it was added.",
    }),
  ),
};

const Shortage = t.Object({ sku: t.String(), requested: t.Integer(), available: t.Integer() });

export const OrderPlaced = defineEvent(
  "orders.order-placed",
  1,
  t.Object(OrderSnapshot),
  "A customer placed an order (status pending), priced by the shop from its copy of the catalog. Written to the outbox " +
    "in the same transaction as the order.",
);

export const OrderConfirmed = defineEvent(
  "orders.order-confirmed",
  1,
  t.Object(OrderSnapshot),
  "Inventory reserved every line of the order: it is confirmed.",
);

export const OrderRejected = defineEvent(
  "orders.order-rejected",
  1,
  t.Object({ ...OrderSnapshot, reason: t.String(), shortages: t.Array(Shortage) }),
  "Inventory could not reserve every line: the order is rejected, with the skus that were short.",
);

export const OrderCancelled = defineEvent(
  "orders.order-cancelled",
  1,
  t.Object({ ...OrderSnapshot, reason: t.Optional(t.String()) }),
  "The customer or an admin cancelled a pending or confirmed order: what it held is to be released.",
);

export const OrderShipped = defineEvent(
  "orders.order-shipped",
  1,
  t.Object(OrderSnapshot),
  "An admin shipped a confirmed order: its reservation becomes an on-hand decrement.",
);

/** Every event orders publishes: its module definition declares them (ModuleDefinition.publishes). */
export const ordersEvents = [OrderPlaced, OrderConfirmed, OrderRejected, OrderCancelled, OrderShipped] as const;
