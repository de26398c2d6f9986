import type { Order } from "./order.ts";
import { ORDER_STATUSES, type OrderStatus } from "./order-status.ts";

/** One status an order reached, numbered by the order's version right after it (1 = placed, pending). */
export interface StatusEvent {
  orderId: string;
  status: OrderStatus;
  version: number;
  at: Date;
  reason: string | null;
}

/**
 * The order's history as numbered events, oldest first. The history holds one row per status reached (the
 * lifecycle has no cycle) and each transition adds one to the version, so the newest status carries the order's
 * version and each earlier one a version less. Lifecycle order, not timestamps, says which came first: the
 * clocks of two instances may disagree.
 */
export function statusEvents(order: Pick<Order, "id" | "version" | "history">): StatusEvent[] {
  const reached = [...order.history].sort((a, b) => ORDER_STATUSES.indexOf(a.status) - ORDER_STATUSES.indexOf(b.status));
  const first = order.version - reached.length + 1;
  return reached.map((change, i) => ({ orderId: order.id, status: change.status, version: first + i, at: change.at, reason: change.reason }));
}
