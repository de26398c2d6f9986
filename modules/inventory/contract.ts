import { Type as t } from "@sinclair/typebox";
import { Currency, Uuid } from "../../src/platform/formats.ts";
import { defineEvent } from "../../src/platform/messaging/event.ts";

/** The published language of the inventory module: the only part of it other modules may import. */

// The descriptions below are the events' documentation: they reach the AsyncAPI document (GET /docs/asyncapi.json).

export const Sku = t.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" });
const OrderId = Uuid();

const Shortage = t.Object({
  sku: Sku,
  requested: t.Integer({ minimum: 1 }),
  available: t.Integer({ minimum: 0 }),
});

const ReservedLine = t.Object({ sku: Sku, quantity: t.Integer({ minimum: 1 }) });

export const ProductUpserted = defineEvent(
  "inventory.product-upserted",
  1,
  t.Object({
    sku: Sku,
    name: t.String({ minLength: 1 }),
    priceCents: t.Integer({ minimum: 0 }),
    currency: Currency(),
    active: t.Boolean(),
    version: t.Optional(
      t.Integer({
        minimum: 1,
        description:
          "Grows by one with every catalog change of this sku. Optional for compatibility with events sent " +
          "before it existed; a consumer keeping a copy keeps the highest version it has seen.",
      }),
    ),
  }),
  "A product was created or changed (name, price, active); a copy of the catalog keeps the highest version of each sku.",
);

export const StockReserved = defineEvent(
  "inventory.stock-reserved",
  1,
  t.Object({ orderId: OrderId, items: t.Array(ReservedLine) }),
  "Every line of an order placed was reserved (all lines or none).",
);

export const StockRejected = defineEvent(
  "inventory.stock-rejected",
  1,
  t.Object({ orderId: OrderId, shortages: t.Array(Shortage) }),
  "An order placed could not be reserved whole: nothing was reserved, and the shortages say what was missing.",
);

export const StockReleased = defineEvent(
  "inventory.stock-released",
  1,
  t.Object({ orderId: OrderId, items: t.Array(ReservedLine) }),
  "A cancelled order's reservation was released: exactly what it held is available again.",
);

/** Every event inventory publishes: its module definition declares them (ModuleDefinition.publishes). */
export const inventoryEvents = [ProductUpserted, StockReserved, StockRejected, StockReleased] as const;
