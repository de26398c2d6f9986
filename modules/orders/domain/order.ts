import { canTransition, type OrderStatus } from "./order-status.ts";

/** One priced line of an order, frozen at placement: later price changes never touch it. */
export interface OrderLine {
  /** 1-based position in the order, as the customer listed the items. */
  lineNo: number;
  sku: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
  lineTotalCents: number;
}

/** A status the order reached, when, and why (for rejections and cancellations). */
export interface StatusChange {
  status: OrderStatus;
  at: Date;
  reason: string | null;
}

export interface Order {
  id: string;
  customerId: string;
  customerEmail: string;
  status: OrderStatus;
  statusReason: string | null;
  lines: OrderLine[];
  totalCents: number;
  currency: string;
  /** Grows by one on every transition: two concurrent transitions cannot both win. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  history: StatusChange[];
}

/** A new order: `pending`, version 1, its first history entry. */
export function openOrder(input: {
  id: string;
  customer: { id: string; email: string };
  lines: OrderLine[];
  totalCents: number;
  currency: string;
  at: Date;
}): Order {
  return {
    id: input.id,
    customerId: input.customer.id,
    customerEmail: input.customer.email,
    status: "pending",
    statusReason: null,
    lines: input.lines,
    totalCents: input.totalCents,
    currency: input.currency,
    version: 1,
    createdAt: input.at,
    updatedAt: input.at,
    history: [{ status: "pending", at: input.at, reason: null }],
  };
}

export type TransitionResult = { ok: true; order: Order; change: StatusChange } | { ok: false; from: OrderStatus; to: OrderStatus };

/** The order after moving to `to`, or a refusal when its current status does not allow it. */
export function transitionOrder(order: Order, to: OrderStatus, at: Date, reason: string | null = null): TransitionResult {
  if (!canTransition(order.status, to)) return { ok: false, from: order.status, to };
  const change: StatusChange = { status: to, at, reason };
  return {
    ok: true,
    change,
    order: { ...order, status: to, statusReason: reason, version: order.version + 1, updatedAt: at, history: [...order.history, change] },
  };
}

/** Who is looking at orders: a customer (by id) or an admin. */
export interface Viewer {
  id: string;
  isAdmin: boolean;
}

/** Whether the viewer may see the order: its own customer or any admin. */
export function isVisibleTo(order: Pick<Order, "customerId">, viewer: Viewer): boolean {
  return viewer.isAdmin || order.customerId === viewer.id;
}

/**
 * The status reason of a cancellation: the reason given (trimmed), or who cancelled when none was
 * given — an empty text box is not a reason.
 */
export function cancellationReason(by: Viewer, given?: string): string {
  const reason = given?.trim();
  if (reason) return reason;
  return by.isAdmin ? "cancelled by admin" : "cancelled by customer";
}
