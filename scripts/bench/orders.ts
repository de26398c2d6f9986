/** Reading orders back through the API (admin, newest first) and turning them into confirmation latencies. */
import { call } from "./http.ts";
import type { Shop } from "./setup.ts";

export interface OrderSummary {
  id: string;
  status: string;
  customerId: string;
  items: Array<{ sku: string; quantity: number }>;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** Orders the bench placed and the shop accepted: id → index of the customer who placed it. */
export type Accepted = Map<string, number>;

const PAGE = 100;

/**
 * Pages through GET /orders (admin, created_at desc). Stops after the last page, or after a page whose
 * oldest order was created before `since` (server clock, ms since the epoch).
 */
export async function listOrders(shop: Shop, since = Number.NEGATIVE_INFINITY): Promise<OrderSummary[]> {
  const all: OrderSummary[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100_000; page++) {
    const res = await call(shop.orders, `/orders?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: shop.adminToken });
    if (res.status !== 200) throw new Error(`GET /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
    const body = res.body as { items: OrderSummary[]; nextCursor: string | null };
    all.push(...body.items);
    cursor = body.nextCursor;
    const oldest = body.items.at(-1);
    if (!cursor || (oldest && Date.parse(oldest.createdAt) < since)) break;
  }
  return all;
}

export interface Confirmations {
  /** Per placed order: confirmation time (server `updatedAt` at version 2) minus its placing time; Infinity when not confirmed. */
  latencies: number[];
  /** Server times of the confirmations, ascending. */
  confirmTimes: number[];
  /** Placed orders by status ("missing" when not listed). */
  byStatus: Map<string, number>;
  /** Orders final (confirmed or rejected). */
  final: number;
}

/** `placedAt`: id → when the order was placed, ms since the epoch (the client's 201, or its scheduled send). */
export function confirmations(listed: OrderSummary[], placedAt: Map<string, number>): Confirmations {
  const byId = new Map(listed.map((o) => [o.id, o]));
  const latencies: number[] = [];
  const confirmTimes: number[] = [];
  const byStatus = new Map<string, number>();
  for (const [id, at] of placedAt) {
    const order = byId.get(id);
    const status = order?.status ?? "missing";
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    if (order && status === "confirmed" && order.version === 2) {
      const confirmedAt = Date.parse(order.updatedAt);
      confirmTimes.push(confirmedAt);
      latencies.push(confirmedAt - at);
    } else latencies.push(Number.POSITIVE_INFINITY);
  }
  confirmTimes.sort((a, b) => a - b);
  const final = (byStatus.get("confirmed") ?? 0) + (byStatus.get("rejected") ?? 0);
  return { latencies, confirmTimes, byStatus, final };
}

/** Confirmations per second from the first to the last confirmation. */
export function confirmRate(confirmTimes: number[]): { perS: number; windowS: number } {
  if (confirmTimes.length < 2) return { perS: Number.NaN, windowS: Number.NaN };
  const windowS = (confirmTimes.at(-1)! - confirmTimes[0]!) / 1000;
  return { perS: (confirmTimes.length - 1) / windowS, windowS };
}

export const statusText = (byStatus: Map<string, number>) => [...byStatus.entries()].map(([s, n]) => `${s}×${n}`).join(" ");
