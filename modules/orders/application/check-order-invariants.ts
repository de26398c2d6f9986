import type { InvariantCheck } from "../../../src/platform/module.ts";
import type { OrdersDeps } from "../ports.ts";

/**
 * No order is stuck: a `pending` order older than `settleMs` must still have its order-placed event
 * waiting in the outbox (then the outbox check reports why); one whose event was already sent has
 * lost its answer somewhere (a DLQ, a bug) and needs an operator.
 */
export async function checkOrderInvariants(deps: Pick<OrdersDeps, "db" | "orders">, settleMs: number): Promise<InvariantCheck[]> {
  const stuck = await deps.orders.findUnsettled(deps.db, settleMs);
  return [
    {
      name: "orders: every order settles (or its event is still in the outbox)",
      violations: stuck.map((o) => `order ${o.id} is still pending since ${o.createdAt} though its order-placed event was sent`),
    },
  ];
}
