import { sqlOf, type Transaction } from "../../../src/platform/db.ts";
import { InvalidError } from "../../../src/platform/errors.ts";
import { OrderPlaced } from "../contract.ts";
import { openUnitsExcess } from "../domain/open-units-limit.ts";
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
 * Throws InvalidError (e.g. `ORDERS.UNKNOWN_SKU` with `details.skus`) when the lines cannot be priced, and
 * `ORDERS.OPEN_UNITS_LIMIT` when they would take the customer over `maxOpenUnitsPerSku` of a sku in open orders;
 * with that cap the customer's placements are serialised, so concurrent ones cannot overshoot it together.
 * `alsoInTransaction` runs in that transaction after the order and its event are written; if it
 * throws, neither is kept.
 */
export async function placeOrder(
  deps: Pick<OrdersDeps, "db" | "orders" | "catalog" | "outbox" | "metrics" | "maxOpenUnitsPerSku">,
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
    const cap = deps.maxOpenUnitsPerSku ?? 0;
    if (!alsoInTransaction && cap === 0) {
      await sqlOf(deps.db).unsafe(text, params as never[]);
      return;
    }
    await deps.db.transaction(async (tx) => {
      if (cap > 0) await refuseOverCap(deps, tx, input, cap);
      await sqlOf(tx).unsafe(text, params as never[]);
      await alsoInTransaction?.(tx, order);
    });
  });
  deps.metrics.placed.inc();
  return order;
}

async function refuseOverCap(deps: Pick<OrdersDeps, "orders">, tx: Transaction, input: PlaceOrderInput, cap: number): Promise<void> {
  await deps.orders.lockCustomer(tx, input.customer.id);
  const held = await deps.orders.openUnits(tx, input.customer.id, input.items.map((item) => item.sku));
  const excess = openUnitsExcess(input.items, held, cap);
  if (excess.length === 0) return;
  throw new InvalidError(
    "ORDERS.OPEN_UNITS_LIMIT",
    `A customer may hold at most ${cap} units of a sku in pending and confirmed orders: ${excess.map((e) => e.sku).join(", ")} would go over.`,
    {
      limit: cap,
      skus: excess,
      errors: excess.map((e) => ({
        in: "body",
        field: `/items/${input.items.findIndex((item) => item.sku === e.sku)}/quantity`,
        message: `At most ${Math.max(0, cap - e.held)} more (${e.held} held in open orders)`,
      })),
    },
  );
}
