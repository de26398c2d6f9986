import { sql } from "drizzle-orm";
import type { Executor } from "../../../src/platform/db.ts";
import type { InvariantCheck } from "../../../src/platform/module.ts";

/**
 * No order is stuck: a `pending` order older than `settleMs` must still have its order-placed event
 * waiting in the outbox (then the outbox check reports why); one whose event was already sent has
 * lost its answer somewhere (a DLQ, a bug) and needs an operator.
 */
export async function checkOrderInvariants(db: Executor, settleMs: number): Promise<InvariantCheck[]> {
  const stuck = await db.execute<{ id: string; created_at: string }>(sql`
    select o.id, o.created_at::text
    from orders.orders o
    where o.status = 'pending'
      and o.created_at < now() - make_interval(secs => ${settleMs / 1000})
      and not exists (
        select 1 from orders.outbox e
        where e.sent_at is null and e.name = 'orders.order-placed' and e.envelope->'data'->>'orderId' = o.id::text)
    order by o.created_at
    limit 100`);
  return [
    {
      name: "orders: every order settles (or its event is still in the outbox)",
      violations: [...stuck].map((r) => `order ${r.id} is still pending since ${r.created_at} though its order-placed event was sent`),
    },
  ];
}
