import { sql } from "drizzle-orm";
import { bigint, boolean, check, foreignKey, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "../../../src/platform/messaging/tables.ts";
import { IDEMPOTENCY_KEY_STATUSES, MAX_IDEMPOTENCY_KEY_LENGTH } from "../domain/idempotency-key.ts";
import { ORDER_STATUSES } from "../domain/order-status.ts";

/** Everything the orders module stores lives in this Postgres schema; nothing refers outside it. */
export const ordersSchema = pgSchema("orders");

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
// Money in minor units. bigint because 50 lines × 1000 × a large price passes int4; mode "number" is exact up to 2^53.
const cents = (name: string) => bigint(name, { mode: "number" });
const statusList = sql.raw(ORDER_STATUSES.map((s) => `'${s}'`).join(", "));

/** The local copy of inventory's prices (from inventory.product-upserted): orders prices lines from it. */
export const catalog = ordersSchema.table(
  "catalog",
  {
    sku: text("sku").primaryKey(),
    name: text("name").notNull(),
    priceCents: cents("price_cents").notNull(),
    currency: text("currency").notNull(),
    active: boolean("active").notNull(),
    /** inventory's version of the product (null for events sent before it carried one). */
    version: integer("version"),
    /** When inventory made the change (the event's occurredAt): the tie-breaker after the version. */
    updatedAt: at("updated_at").notNull(),
  },
  (table) => [
    check("catalog_price_not_negative", sql`${table.priceCents} >= 0`),
    check("catalog_currency_iso", sql`${table.currency} ~ '^[A-Z]{3}$'`),
  ],
);

export const orders = ordersSchema.table(
  "orders",
  {
    id: uuid("id").primaryKey(),
    customerId: text("customer_id").notNull(),
    customerEmail: text("customer_email").notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull(),
    statusReason: text("status_reason"),
    totalCents: cents("total_cents").notNull(),
    currency: text("currency").notNull(),
    version: integer("version").notNull(),
    createdAt: at("created_at").notNull(),
    updatedAt: at("updated_at").notNull(),
  },
  (table) => [
    check("orders_status_known", sql`${table.status} in (${statusList})`),
    check("orders_total_not_negative", sql`${table.totalCents} >= 0`),
    check("orders_currency_iso", sql`${table.currency} ~ '^[A-Z]{3}$'`),
    check("orders_version_positive", sql`${table.version} >= 1`),
    // Keyset pagination (created_at desc, id desc): a customer's orders, orders by status, all orders.
    index("orders_customer_created_idx").on(table.customerId, table.createdAt, table.id),
    index("orders_status_created_idx").on(table.status, table.createdAt, table.id),
    index("orders_created_idx").on(table.createdAt, table.id),
  ],
);

/**
 * Units of each sku a customer holds in open (pending or confirmed) orders, kept by the statements that change
 * them: a placement raises its skus' rows, a transition to a final status lowers them. The upsert's row lock
 * serialises a customer's concurrent placements of a sku, and `open_units_within_cap` refuses the one that would go
 * over the cap it was placed under (`cap`, ORDERS_MAX_OPEN_UNITS_PER_SKU then; 0 = none), rolling the whole
 * placement back.
 */
export const openUnits = ordersSchema.table(
  "open_units",
  {
    customerId: text("customer_id").notNull(),
    sku: text("sku").notNull(),
    units: integer("units").notNull(),
    cap: integer("cap").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.customerId, table.sku] }),
    check("open_units_not_negative", sql`${table.units} >= 0`),
    check("open_units_within_cap", sql`${table.cap} = 0 or ${table.units} <= ${table.cap}`),
  ],
);

export const orderItems = ordersSchema.table(
  "order_items",
  {
    orderId: uuid("order_id").notNull(),
    lineNo: integer("line_no").notNull(),
    sku: text("sku").notNull(),
    name: text("name").notNull(),
    quantity: integer("quantity").notNull(),
    unitPriceCents: cents("unit_price_cents").notNull(),
    lineTotalCents: cents("line_total_cents").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.orderId, table.lineNo] }),
    foreignKey({ name: "order_items_order_fk", columns: [table.orderId], foreignColumns: [orders.id] }).onDelete("cascade"),
    uniqueIndex("order_items_order_sku_idx").on(table.orderId, table.sku),
    check("order_items_line_no_positive", sql`${table.lineNo} >= 1`),
    check("order_items_quantity_positive", sql`${table.quantity} > 0`),
    check("order_items_unit_price_not_negative", sql`${table.unitPriceCents} >= 0`),
    check("order_items_line_total", sql`${table.lineTotalCents} = ${table.unitPriceCents} * ${table.quantity}`),
  ],
);

/** Every status an order reached. The lifecycle has no cycle, so (order, status) is unique. */
export const orderHistory = ordersSchema.table(
  "order_history",
  {
    orderId: uuid("order_id").notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull(),
    at: at("at").notNull(),
    reason: text("reason"),
  },
  (table) => [
    primaryKey({ columns: [table.orderId, table.status] }),
    foreignKey({ name: "order_history_order_fk", columns: [table.orderId], foreignColumns: [orders.id] }).onDelete("cascade"),
    check("order_history_status_known", sql`${table.status} in (${statusList})`),
  ],
);

/**
 * `Idempotency-Key`s of POST /orders, per customer. A row is claimed `in_flight` (committed at once, so
 * a concurrent retry sees it) and turns `completed`, with the order it placed, in the transaction that stores the
 * order. `claim_id` names the request holding the key: only it may complete or release it.
 */
export const idempotencyKeys = ordersSchema.table(
  "idempotency_keys",
  {
    customerId: text("customer_id").notNull(),
    key: text("key").notNull(),
    /** sha256 (hex) of the canonical JSON of the validated request body. */
    requestHash: text("request_hash").notNull(),
    status: text("status", { enum: IDEMPOTENCY_KEY_STATUSES }).notNull(),
    claimId: uuid("claim_id").notNull(),
    /**
     * Of keys completed by earlier versions, which stored the HTTP answer (201 and its body) instead of the
     * order: still read, so such a key replays for its 24 h; no longer written.
     */
    responseStatus: integer("response_status"),
    responseBody: jsonb("response_body").$type<unknown>(),
    /** The order the key's request placed, as it was then (idempotency-key-repository.ts gives its JSON shape). */
    placedOrder: jsonb("placed_order").$type<unknown>(),
    orderId: uuid("order_id"),
    /** When the current claim was made (database clock): drives the in-flight timeout and the 24 h retention. */
    createdAt: at("created_at").notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.customerId, table.key] }),
    foreignKey({ name: "idempotency_keys_order_fk", columns: [table.orderId], foreignColumns: [orders.id] }).onDelete("cascade"),
    check("idempotency_keys_status_known", sql`${table.status} in (${sql.raw(IDEMPOTENCY_KEY_STATUSES.map((s) => `'${s}'`).join(", "))})`),
    check("idempotency_keys_key_length", sql`char_length(${table.key}) between 1 and ${sql.raw(String(MAX_IDEMPOTENCY_KEY_LENGTH))}`),
    check("idempotency_keys_request_hash_sha256", sql`${table.requestHash} ~ '^[0-9a-f]{64}$'`),
    check(
      "idempotency_keys_completed_has_response",
      sql`${table.status} = 'in_flight' or ${table.placedOrder} is not null or (${table.responseStatus} is not null and ${table.responseBody} is not null)`,
    ),
    // The retention sweep's scan (keys by age), for the customers who never send another keyed request.
    index("idempotency_keys_created_idx").on(table.createdAt),
  ],
);

export const outbox = outboxTable(ordersSchema);
export const inbox = inboxTable(ordersSchema);
