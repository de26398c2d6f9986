import { and, eq, sql } from "drizzle-orm";
import { sqlOf, type Executor, type Transaction } from "../../../src/platform/db.ts";
import type { StockLine } from "../domain/reservation-plan.ts";
import type { SkuAvailability } from "../domain/shortages.ts";
import type { PlacementState, ReservationRepository } from "../ports.ts";
import { cancelledOrders, reservations, type ReservationStatus } from "./schema.ts";

const LOCK_ORDERS = `
select count(pg_advisory_xact_lock(hashtextextended('inventory.order:' || id, 0)))
from (select id from unnest($1::text[]) as id order by id) as sorted`;

const LOCK_FOR_PLACEMENT = `
select (select coalesce(json_agg(order_id), '[]') from inventory.cancelled_orders where order_id = any($1::uuid[])) as cancelled,
  (select coalesce(json_agg(distinct order_id), '[]') from inventory.reservations where order_id = any($1::uuid[])) as reserved,
  (select coalesce(json_agg(json_build_object('sku', sku, 'active', active, 'available', on_hand - reserved)), '[]')
   from (select sku, active, on_hand, reserved from inventory.products where sku = any($2::text[]) order by sku for update) locked) as stock`;

const RESERVE_AND_HOLD = `
with lines as (select * from unnest($1::uuid[], $2::text[], $3::int[]) as l(order_id, sku, quantity)),
taken as (
  update inventory.products p set reserved = p.reserved + t.quantity
  from (select sku, sum(quantity) as quantity from lines group by sku) t where p.sku = t.sku)
insert into inventory.reservations (order_id, sku, quantity, status) select order_id, sku, quantity, 'held' from lines`;

/** Postgres access to what each order holds (`inventory.reservations`) and to early cancels (`cancelled_orders`). */
export const reservationRepository: ReservationRepository = {
  /**
   * Serialises, until the transaction ends, everything this module does for one order. Without it a cancel
   * handled concurrently with its placement would see no reservation yet, record an early cancel, and the
   * placement (which had not seen that record either) would keep its units reserved for ever.
   */
  async lockOrder(tx: Transaction, orderId: string): Promise<void> {
    await sqlOf(tx).unsafe(LOCK_ORDERS, [[orderId]]);
  },

  /**
   * Serialises, like lockOrder, everything this module does for each of these orders; taken in one statement, in
   * id order, so that two transactions locking overlapping sets cannot deadlock on them.
   */
  async lockOrders(tx: Transaction, orderIds: string[]): Promise<void> {
    await sqlOf(tx).unsafe(LOCK_ORDERS, [orderIds]);
  },

  /**
   * What placements need to know, in one statement (call it after lockOrders, so that it sees every change
   * committed before the locks were granted): which of the orders were cancelled first, which already hold
   * reservations, and the stock of the skus — whose product rows it locks, in sku order like every reservation,
   * so that what it reads stays true until the transaction ends.
   */
  async lockForPlacement(tx: Transaction, orderIds: string[], skus: string[]): Promise<PlacementState> {
    const [row] = await sqlOf(tx).unsafe<{ cancelled: string[]; reserved: string[]; stock: Array<SkuAvailability & { sku: string }> }[]>(
      LOCK_FOR_PLACEMENT,
      [orderIds, skus],
    );
    return {
      cancelled: new Set(row!.cancelled),
      reserved: new Set(row!.reserved),
      stock: new Map(row!.stock.map(({ sku, ...stock }) => [sku, stock])),
    };
  },

  /**
   * Reserves the lines of every order and records what each holds, in one statement. Only after
   * lockForPlacement found the lines available: the product rows are locked, so the stock cannot have changed.
   */
  async reserveAndHold(tx: Transaction, holds: Array<{ orderId: string; lines: StockLine[] }>): Promise<void> {
    const lines = holds.flatMap(({ orderId, lines }) => lines.map((line) => ({ orderId, ...line })));
    if (lines.length === 0) return;
    await sqlOf(tx).unsafe(RESERVE_AND_HOLD, [lines.map((l) => l.orderId), lines.map((l) => l.sku), lines.map((l) => l.quantity)]);
  },

  /** Whether any reservation row exists for the order, whatever its status. */
  async exists(db: Executor, orderId: string): Promise<boolean> {
    const rows = await db.select({ sku: reservations.sku }).from(reservations).where(eq(reservations.orderId, orderId)).limit(1);
    return rows.length > 0;
  },

  /** Moves the order's held lines to `status` and returns them. */
  async settleHeld(db: Executor, orderId: string, status: Exclude<ReservationStatus, "held">): Promise<StockLine[]> {
    return db
      .update(reservations)
      .set({ status, updatedAt: sql`now()` })
      .where(and(eq(reservations.orderId, orderId), eq(reservations.status, "held")))
      .returning({ sku: reservations.sku, quantity: reservations.quantity });
  },

  async rememberCancelled(db: Executor, orderId: string): Promise<void> {
    await db.insert(cancelledOrders).values({ orderId }).onConflictDoNothing();
  },
};

