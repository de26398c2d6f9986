/** Every status an order can be in, in lifecycle order: each transition goes to a later entry of this list. */
export const ORDER_STATUSES = ["pending", "confirmed", "rejected", "cancelled", "shipped"] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

// The whole lifecycle in one table. There is no cycle, so an order reaches each status at most once
// (the history table relies on it: one row per (order, status)).
const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ["confirmed", "rejected", "cancelled"],
  confirmed: ["cancelled", "shipped"],
  rejected: [],
  cancelled: [],
  shipped: [],
};

/** The statuses from which an order may move to `to` (e.g. cancelled: pending, confirmed). */
export function statusesLeadingTo(to: OrderStatus): OrderStatus[] {
  return ORDER_STATUSES.filter((from) => TRANSITIONS[from].includes(to));
}

/** True when the lifecycle allows `from` → `to`. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** True for a status the order never leaves (rejected, cancelled, shipped). */
export function isFinal(status: OrderStatus): boolean {
  return TRANSITIONS[status].length === 0;
}
