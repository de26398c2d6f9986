import { and, eq, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../../../src/platform/db.ts";
import type { StockLine } from "../domain/reservation-plan.ts";
import { cancelledOrders, reservations, type ReservationStatus } from "./schema.ts";

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

  /** Whether any reservation row exists for the order, whatever its status. */
  async exists(db: Executor, orderId: string): Promise<boolean> {
    const rows = await db.select({ sku: reservations.sku }).from(reservations).where(eq(reservations.orderId, orderId)).limit(1);
    return rows.length > 0;
  },

  async hold(db: Executor, orderId: string, lines: StockLine[]): Promise<void> {
    if (lines.length === 0) return;
    await db.insert(reservations).values(lines.map((line) => ({ orderId, sku: line.sku, quantity: line.quantity, status: "held" as const })));
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

  async isCancelled(db: Executor, orderId: string): Promise<boolean> {
    const rows = await db.select({ orderId: cancelledOrders.orderId }).from(cancelledOrders).where(eq(cancelledOrders.orderId, orderId));
    return rows.length > 0;
  },
};

export type ReservationRepository = typeof reservationRepository;
