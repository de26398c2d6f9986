import type { Keyset } from "../../../src/platform/paging.ts";
import type { OrderPosition } from "../infrastructure/order-repository.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Orders page by (createdAt, id), newest first: a cursor carries the last order's createdAt and id. */
export const orderKeyset: Keyset<OrderPosition, OrderPosition> = {
  invalidCursorCode: "ORDERS.INVALID_CURSOR",
  cursorOf: (order) => ({ t: order.createdAt.toISOString(), id: order.id }),
  positionOf(payload) {
    if (typeof payload !== "object" || payload === null) return undefined;
    const { t, id } = payload as { t?: unknown; id?: unknown };
    if (typeof t !== "string" || typeof id !== "string" || !UUID.test(id)) return undefined;
    const createdAt = new Date(t);
    if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== t) return undefined;
    // JavaScript dates reach ±275760 years; PostgreSQL's timestamptz refuses years past 9999 in this notation.
    const year = createdAt.getUTCFullYear();
    if (year < 1 || year > 9999) return undefined;
    return { createdAt, id };
  },
};
