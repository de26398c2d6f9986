import type { InvariantCheck } from "../../../src/platform/module.ts";
import type { OrdersDeps } from "../ports.ts";

/**
 * The open units counted for the cap match the orders, and no order is stuck: a `pending` order older than `settleMs` must still have its order-placed event
 * waiting in the outbox (then the outbox check reports why); one whose event was already sent has
 * lost its answer somewhere (a DLQ, a bug) and needs an operator.
 */
export async function checkOrderInvariants(deps: Pick<OrdersDeps, "db" | "orders">, settleMs: number): Promise<InvariantCheck[]> {
  const stuck = await deps.orders.findUnsettled(deps.db, settleMs);
  const drift = await deps.orders.findUnitsDrift(deps.db);
  return [
    {
      name: "orders: every order settles (or its event is still in the outbox)",
      violations: stuck.map((o) => `order ${o.id} is still pending since ${o.createdAt} though its order-placed event was sent`),
    },
    {
      // Counted by the statements that place and settle orders; a drift means an order was written another way
      // (or by an instance older than the count), and the cap (ORDERS_MAX_OPEN_UNITS_PER_SKU) is off by that much.
      name: "orders: the units counted per customer and sku are those of their pending and confirmed orders",
      violations: drift.map((d) => `customer ${d.customerId} holds ${d.held} of ${d.sku} in open orders, counted ${d.counted}`),
    },
  ];
}
