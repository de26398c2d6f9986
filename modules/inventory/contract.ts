import { Type as t } from "@sinclair/typebox";
import { Currency, Uuid } from "../../src/platform/formats.ts";
import { defineEvent } from "../../src/platform/messaging/event.ts";

/** The published language of the inventory module: the only part of it other modules may import. */

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
    /**
     * Grows by one with every catalog change of this sku. Optional for compatibility with events sent
     * before it existed; a consumer keeping a copy keeps the highest version it has seen.
     */
    version: t.Optional(t.Integer({ minimum: 1 })),
  }),
);

export const StockReserved = defineEvent("inventory.stock-reserved", 1, t.Object({ orderId: OrderId, items: t.Array(ReservedLine) }));

export const StockRejected = defineEvent("inventory.stock-rejected", 1, t.Object({ orderId: OrderId, shortages: t.Array(Shortage) }));

export const StockReleased = defineEvent("inventory.stock-released", 1, t.Object({ orderId: OrderId, items: t.Array(ReservedLine) }));
