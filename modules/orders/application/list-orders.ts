import { readPage, type Page } from "../../../src/platform/paging.ts";
import type { Viewer } from "../domain/order.ts";
import type { OrderStatus } from "../domain/order-status.ts";
import type { OrderPosition, OrderSummary, OrdersDeps } from "../ports.ts";
import { orderKeyset } from "./order-cursor.ts";

export interface ListOrdersInput {
  viewer: Viewer;
  status?: OrderStatus;
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export type OrderPage = Page<OrderSummary>;

/**
 * A page of orders, newest first: a customer sees their own, an admin sees everyone's. Keyset
 * pagination on (createdAt desc, id desc): orders placed while paging never shift a page.
 */
export async function listOrders(deps: Pick<OrdersDeps, "db" | "orders">, input: ListOrdersInput): Promise<OrderPage> {
  return readPage<OrderSummary, OrderPosition>(orderKeyset, input, ({ after, limit }) =>
    deps.orders.list(deps.db, { customerId: input.viewer.isAdmin ? undefined : input.viewer.id, status: input.status, after, limit }),
  );
}
