import { sqlOf, type Transaction } from "../../../src/platform/db.ts";
import { InvalidError } from "../../../src/platform/errors.ts";
import { classify } from "../../../src/platform/failures.ts";
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
 * `ORDERS.OPEN_UNITS_LIMIT` when they would take the customer over `maxOpenUnitsPerSku` of a sku in open orders
 * (checked by the database in the same statement, so concurrent placements cannot overshoot it together).
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
  const cap = deps.maxOpenUnitsPerSku ?? 0;
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.outbox.traced(event, async () => {
        // The order, its lines, its history, the units it holds and its event: one statement, so all of them or
        // none, with no transaction.
        const { text, params } = deps.outbox.insertWith(event, deps.orders.insertWrites(order, cap));
        if (!alsoInTransaction) {
          await sqlOf(deps.db).unsafe(text, params as never[]);
          return;
        }
        await deps.db.transaction(async (tx) => {
          await sqlOf(tx).unsafe(text, params as never[]);
          await alsoInTransaction(tx, order);
        });
      });
      break;
    } catch (error) {
      const failure = classify(error);
      if (failure.kind === "constraint" && failure.constraint === OVER_CAP_CONSTRAINT) throw await overCap(deps, input, cap);
      // A deadlock on the customer's counts with a concurrent transition (rare: see order-repository.ts); nothing was
      // written, so the same statement is simply run again.
      if (failure.kind === "contention" && attempt < CONTENTION_ATTEMPTS) continue;
      throw error;
    }
  }
  deps.metrics.placed.inc();
  return order;
}

const OVER_CAP_CONSTRAINT = "open_units_within_cap";
const CONTENTION_ATTEMPTS = 3;

// After the refusal, for its message only: what the customer holds now (another placement or a cancel may have
// changed it since), and which of the order's skus would go over.
async function overCap(deps: Pick<OrdersDeps, "db" | "orders">, input: PlaceOrderInput, cap: number): Promise<InvalidError> {
  const held = await deps.orders.heldUnits(deps.db, input.customer.id, input.items.map((item) => item.sku));
  const found = openUnitsExcess(input.items, held, cap);
  // Should what the customer holds have dropped meanwhile, every line is named rather than none.
  const excess = found.length > 0 ? found : input.items.map((item) => ({ sku: item.sku, held: held.get(item.sku) ?? 0, requested: item.quantity }));
  return new InvalidError(
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
