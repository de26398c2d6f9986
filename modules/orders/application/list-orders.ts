import { InvalidError } from "../../../src/platform/errors.ts";
import type { Viewer } from "../domain/order.ts";
import type { OrderStatus } from "../domain/order-status.ts";
import type { OrderSummary, OrdersDeps } from "../ports.ts";
import { decodeCursor, encodeCursor } from "./order-cursor.ts";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface ListOrdersInput {
  viewer: Viewer;
  status?: OrderStatus;
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface OrderPage {
  items: OrderSummary[];
  /** Null on the last page. */
  nextCursor: string | null;
}

/**
 * A page of orders, newest first: a customer sees their own, an admin sees everyone's. Keyset
 * pagination on (createdAt desc, id desc): orders placed while paging never shift a page.
 */
export async function listOrders(deps: Pick<OrdersDeps, "db" | "orders">, input: ListOrdersInput): Promise<OrderPage> {
  const limit = Math.min(Math.max(input.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
  if (input.cursor !== undefined && !after) {
    throw new InvalidError("ORDERS.INVALID_CURSOR", "The cursor is not one this API issued; start again without it.", {
      errors: [{ in: "query", field: "/cursor", message: "Invalid cursor" }],
    });
  }
  // One extra row tells whether another page follows, without a count.
  const rows = await deps.orders.list(deps.db, {
    customerId: input.viewer.isAdmin ? undefined : input.viewer.id,
    status: input.status,
    after,
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
