import { sql } from "drizzle-orm";
import { boolean, char, check, foreignKey, index, integer, pgSchema, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "../../../src/platform/messaging/tables.ts";

/** The inventory module's own Postgres schema: nothing outside this module reads or joins it. */
export const inventorySchema = pgSchema("inventory");

/** The catalog and its stock. `available = on_hand - reserved` is derived, never stored. */
export const products = inventorySchema.table(
  "products",
  {
    sku: text("sku").primaryKey(),
    name: text("name").notNull(),
    priceCents: integer("price_cents").notNull(),
    currency: char("currency", { length: 3 }).notNull(),
    active: boolean("active").notNull().default(true),
    onHand: integer("on_hand").notNull().default(0),
    reserved: integer("reserved").notNull().default(0),
    /** Counts catalog changes (PUT, stock adjustments), not reservation traffic. */
    version: integer("version").notNull().default(1),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [
    check("products_price_cents_not_negative", sql`${table.priceCents} >= 0`),
    check("products_currency_iso", sql`${table.currency} ~ '^[A-Z]{3}$'`),
    check("products_on_hand_not_negative", sql`${table.onHand} >= 0`),
    check("products_reserved_not_negative", sql`${table.reserved} >= 0`),
    // The last line of defence against overselling, whatever a bug in the code above it does.
    check("products_available_not_negative", sql`${table.onHand} >= ${table.reserved}`),
  ],
);

export const RESERVATION_STATUSES = ["held", "released", "consumed"] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** What each order holds of each sku; `held` rows add up to `products.reserved`. */
export const reservations = inventorySchema.table(
  "reservations",
  {
    orderId: uuid("order_id").notNull(),
    sku: text("sku").notNull(),
    quantity: integer("quantity").notNull(),
    status: text("status").$type<ReservationStatus>().notNull().default("held"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.orderId, table.sku] }),
    foreignKey({ name: "reservations_sku_fk", columns: [table.sku], foreignColumns: [products.sku] }),
    check("reservations_quantity_positive", sql`${table.quantity} > 0`),
    check("reservations_status_known", sql`${table.status} in ('held', 'released', 'consumed')`),
    // Reconciliation (`shop check`) sums the open reservations per sku.
    index("reservations_held_sku_idx").on(table.sku).where(sql`${table.status} = 'held'`),
  ],
);

/** Orders whose cancel arrived before their placement: the late placement must reserve nothing. */
export const cancelledOrders = inventorySchema.table(
  "cancelled_orders",
  {
    orderId: uuid("order_id").primaryKey(),
    cancelledAt: timestamp("cancelled_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  // The retention sweep's scan (markers by age).
  (table) => [index("cancelled_orders_cancelled_at_idx").on(table.cancelledAt)],
);

export const outbox = outboxTable(inventorySchema);
export const inbox = inboxTable(inventorySchema);
