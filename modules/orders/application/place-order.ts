import { sqlOf, type Transaction } from "../../../src/platform/db.ts";
import { InvalidError } from "../../../src/platform/errors.ts";
import { OrderPlaced } from "../contract.ts";
import { openOrder, type Order } from "../domain/order.ts";
import { priceOrder, type RequestedLine } from "../domain/pricing.ts";
import type { OrdersDeps } from "../ports.ts";
import { orderSnapshot } from "./order-snapshot.ts";

export interface PlaceOrderInput {
  customer: { id: string; email: string };
  items: RequestedLine[];
  /** The flow this order starts; it travels in every event that follows. */
  correlationId: string;
}

/**
 * Prices the lines from the local catalog copy (the client never sends a price) and stores the order
 * as `pending` together with its `orders.order-placed` event, in one transaction: there is never an
 * order without its event, nor an event without its order.
 * Throws InvalidError (e.g. `ORDERS.UNKNOWN_SKU` with `details.skus`) when the lines cannot be priced.
 * `alsoInTransaction` runs in that transaction after the order and its event are written; if it
 * throws, neither is kept.
 */
export async function placeOrder(
  deps: Pick<OrdersDeps, "db" | "orders" | "catalog" | "outbox" | "metrics">,
  input: PlaceOrderInput,
  alsoInTransaction?: (tx: Transaction, order: Order) => Promise<void>,
): Promise<Order> {
  // Prices are read before the transaction: it then holds its locks only for the writes.
  const entries = await deps.catalog.findBySkus(deps.db, [...new Set(input.items.map((item) => item.sku))]);
  const pricing = priceOrder(input.items, entries);
  if (!pricing.ok) throw new InvalidError(pricing.problem.code, pricing.problem.message, pricing.problem.details);

  const order = openOrder({ id: Bun.randomUUIDv7(), customer: input.customer, ...pricing.priced, at: new Date() });
  const event = deps.outbox.envelope(OrderPlaced, orderSnapshot(order), { correlationId: input.correlationId });
  await deps.outbox.traced(event, async () => {
    // The order, its lines, its history and its event: one statement, so all of them or none, with no transaction.
    const { text, params } = deps.outbox.insertWith(event, deps.orders.insertWrites(order));
    if (!alsoInTransaction) {
      await sqlOf(deps.db).unsafe(text, params as never[]);
      return;
    }
    await deps.db.transaction(async (tx) => {
      await sqlOf(tx).unsafe(text, params as never[]);
      await alsoInTransaction(tx, order);
    });
  });
  deps.metrics.placed.inc();
  return order;
}
