import { and, eq, sql } from "drizzle-orm";
import { sqlOf, type Executor, type Transaction } from "../../../src/platform/db.ts";
import type { StockLine } from "../domain/reservation-plan.ts";
import type { SkuAvailability } from "../domain/shortages.ts";
import { cancelledOrders, reservations, type ReservationStatus } from "./schema.ts";

export interface PlacementState {
  cancelled: boolean;
  reserved: boolean;
  /** Activity and available units of each known sku among those asked for. */
  stock: Map<string, SkuAvailability>;
}

const LOCK_FOR_PLACEMENT = `
select exists (select 1 from inventory.cancelled_orders where order_id = $1) as cancelled,
  exists (select 1 from inventory.reservations where order_id = $1) as reserved,
  (select coalesce(json_agg(json_build_object('sku', sku, 'active', active, 'available', on_hand - reserved)), '[]')
   from (select sku, active, on_hand, reserved from inventory.products where sku = any($2::text[]) order by sku for update) locked) as stock`;

const RESERVE_AND_HOLD = `
with lines as (select * from unnest($2::text[], $3::int[]) as l(sku, quantity)),
taken as (update inventory.products p set reserved = p.reserved + lines.quantity from lines where p.sku = lines.sku)
insert into inventory.reservations (order_id, sku, quantity, status) select $1, sku, quantity, 'held' from lines`;

/** Postgres access to what each order holds (`inventory.reservations`) and to early cancels (`cancelled_orders`). */
export const reservationRepository = {
  /**
   * Serialises, until the transaction ends, everything this module does for one order. Without it a cancel
   * handled concurrently with its placement would see no reservation yet, record an early cancel, and the
   * placement (which had not seen that record either) would keep its units reserved for ever.
   */
  async lockOrder(tx: Transaction, orderId: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`inventory.order:${orderId}`}, 0))`);
  },

  /**
   * What a placement needs to know, in one statement (call it after lockOrder, so that it sees every change
   * committed before the lock was granted): whether the order was cancelled first, whether it already holds
   * reservations, and the stock of its skus — whose product rows it locks, in sku order like every reservation,
   * so that what it reads stays true until the transaction ends.
   */
  async lockForPlacement(tx: Transaction, orderId: string, skus: string[]): Promise<PlacementState> {
    const [row] = await sqlOf(tx).unsafe<{ cancelled: boolean; reserved: boolean; stock: Array<SkuAvailability & { sku: string }> }[]>(
      LOCK_FOR_PLACEMENT,
      [orderId, skus],
    );
    return { cancelled: row!.cancelled, reserved: row!.reserved, stock: new Map(row!.stock.map(({ sku, ...stock }) => [sku, stock])) };
  },

  /**
   * Reserves every line and records what the order holds, in one statement. Only after lockForPlacement found
   * every line available: the product rows are locked, so the stock cannot have changed since.
   */
  async reserveAndHold(tx: Transaction, orderId: string, lines: StockLine[]): Promise<void> {
    if (lines.length === 0) return;
    await sqlOf(tx).unsafe(RESERVE_AND_HOLD, [orderId, lines.map((l) => l.sku), lines.map((l) => l.quantity)]);
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

export type ReservationRepository = typeof reservationRepository;
