import { and, asc, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { Executor } from "../../../src/platform/db.ts";
import type { Order, OrderLine, StatusChange } from "../domain/order.ts";
import { ORDER_STATUSES, type OrderStatus } from "../domain/order-status.ts";
import { orderHistory, orderItems, orders } from "./schema.ts";

/** An order as lists show it: everything but the history. */
export type OrderSummary = Omit<Order, "history">;

/** Where a page of a list starts: just after this (createdAt, id), in descending order. */
export interface OrderPosition {
  createdAt: Date;
  id: string;
}

export interface OrderListQuery {
  /** Only this customer's orders; every customer's when absent. */
  customerId?: string;
  status?: OrderStatus;
  after?: OrderPosition;
  limit: number;
}

type OrderRow = typeof orders.$inferSelect;

/** Orders with their lines and history, in the orders schema. */
export const orderRepository = {
  /** Stores a new order with its lines and history (call inside the transaction that also writes the outbox). */
  async insert(tx: Executor, order: Order): Promise<void> {
    await tx.insert(orders).values({
      id: order.id,
      customerId: order.customerId,
      customerEmail: order.customerEmail,
      status: order.status,
      statusReason: order.statusReason,
      totalCents: order.totalCents,
      currency: order.currency,
      version: order.version,
      createdAt: order.createdAt,
      updatedAt: order.updatedAt,
    });
    await tx.insert(orderItems).values(order.lines.map((line) => ({ orderId: order.id, ...line })));
    await tx.insert(orderHistory).values(order.history.map((change) => ({ orderId: order.id, ...change })));
  },

  async findById(db: Executor, id: string): Promise<Order | undefined> {
    const [row] = await db.select().from(orders).where(eq(orders.id, id));
    if (!row) return undefined;
    const lines = await linesOf(db, [id]);
    const history = await db
      .select({ status: orderHistory.status, at: orderHistory.at, reason: orderHistory.reason })
      .from(orderHistory)
      .where(eq(orderHistory.orderId, id));
    // Two changes within one millisecond keep their lifecycle order (ORDER_STATUSES lists it topologically).
    history.sort((a, b) => a.at.getTime() - b.at.getTime() || ORDER_STATUSES.indexOf(a.status) - ORDER_STATUSES.indexOf(b.status));
    return { ...summaryOf(row, lines.get(id) ?? []), history };
  },

  /** A page of orders, newest first (created_at desc, id desc), lines included, history left out. */
  async list(db: Executor, query: OrderListQuery): Promise<OrderSummary[]> {
    const conditions: SQL[] = [];
    if (query.customerId !== undefined) conditions.push(eq(orders.customerId, query.customerId));
    if (query.status !== undefined) conditions.push(eq(orders.status, query.status));
    if (query.after) {
      // A row comparison, so that (created_at, id) pairs order exactly as the ORDER BY does and an index serves it.
      conditions.push(
        sql`(${orders.createdAt}, ${orders.id}) < (${query.after.createdAt.toISOString()}::timestamptz, ${query.after.id}::uuid)`,
      );
    }
    const rows = await db
      .select()
      .from(orders)
      .where(and(...conditions))
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(query.limit);
    const lines = await linesOf(
      db,
      rows.map((row) => row.id),
    );
    return rows.map((row) => summaryOf(row, lines.get(row.id) ?? []));
  },

  /**
   * Writes a transition decided by the domain, but only if nobody changed the order since it was read
   * (same status and version as `previous`). Returns false when another transition won the race.
   */
  async saveTransition(tx: Executor, previous: Pick<Order, "id" | "status" | "version">, next: Order, change: StatusChange): Promise<boolean> {
    const updated = await tx
      .update(orders)
      .set({ status: next.status, statusReason: next.statusReason, version: next.version, updatedAt: next.updatedAt })
      .where(and(eq(orders.id, previous.id), eq(orders.status, previous.status), eq(orders.version, previous.version)))
      .returning({ id: orders.id });
    if (updated.length === 0) return false;
    await tx.insert(orderHistory).values({ orderId: next.id, ...change });
    return true;
  },
};

export type OrderRepository = typeof orderRepository;

async function linesOf(db: Executor, orderIds: string[]): Promise<Map<string, OrderLine[]>> {
  const byOrder = new Map<string, OrderLine[]>();
  if (orderIds.length === 0) return byOrder;
  const rows = await db
    .select()
    .from(orderItems)
    .where(inArray(orderItems.orderId, orderIds))
    .orderBy(asc(orderItems.orderId), asc(orderItems.lineNo));
  for (const { orderId, ...line } of rows) {
    const lines = byOrder.get(orderId) ?? [];
    lines.push(line);
    byOrder.set(orderId, lines);
  }
  return byOrder;
}

function summaryOf(row: OrderRow, lines: OrderLine[]): OrderSummary {
  return {
    id: row.id,
    customerId: row.customerId,
    customerEmail: row.customerEmail,
    status: row.status,
    statusReason: row.statusReason,
    lines,
    totalCents: row.totalCents,
    currency: row.currency,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
