import { isUuid } from "../../../src/platform/formats.ts";
import type { Keyset } from "../../../src/platform/paging.ts";
import type { OrderPosition } from "../ports.ts";


/** Orders page by (createdAt, id), newest first: a cursor carries the last order's createdAt and id. */
export const orderKeyset: Keyset<OrderPosition, OrderPosition> = {
  invalidCursorCode: "ORDERS.INVALID_CURSOR",
  cursorOf: (order) => ({ t: order.createdAt.toISOString(), id: order.id }),
  positionOf(payload) {
    if (typeof payload !== "object" || payload === null) return undefined;
    const { t, id } = payload as { t?: unknown; id?: unknown };
    if (typeof t !== "string" || typeof id !== "string" || !isUuid(id)) return undefined;
    const createdAt = new Date(t);
    if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== t) return undefined;
    // JavaScript dates reach ±275760 years; PostgreSQL's timestamptz refuses years past 9999 in this notation.
    const year = createdAt.getUTCFullYear();
    if (year < 1 || year > 9999) return undefined;
    return { createdAt, id };
  },
};
