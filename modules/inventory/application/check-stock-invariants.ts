import { sql } from "drizzle-orm";
import type { Executor } from "../../../src/platform/db.ts";
import type { InvariantCheck } from "../../../src/platform/module.ts";

/**
 * Reconciliation: every product's `reserved` equals the sum of its held reservations, and no stock
 * figure is negative. The CHECK constraints make the second impossible; it is verified all the same.
 */
export async function checkStockInvariants(db: Executor): Promise<InvariantCheck[]> {
  const mismatches = await db.execute<{ sku: string; reserved: number; held: number }>(sql`
    select p.sku, p.reserved, coalesce(sum(r.quantity) filter (where r.status = 'held'), 0)::int as held
    from inventory.products p left join inventory.reservations r on r.sku = p.sku
    group by p.sku, p.reserved
    having p.reserved <> coalesce(sum(r.quantity) filter (where r.status = 'held'), 0)
    order by p.sku`);
  const negative = await db.execute<{ sku: string; on_hand: number; reserved: number }>(sql`
    select sku, on_hand, reserved from inventory.products
    where on_hand < 0 or reserved < 0 or on_hand < reserved order by sku`);
  return [
    {
      name: "inventory: reserved equals the sum of open reservations",
      violations: [...mismatches].map((r) => `${r.sku}: reserved ${r.reserved}, held reservations add up to ${r.held}`),
    },
    {
      name: "inventory: no negative stock",
      violations: [...negative].map((r) => `${r.sku}: on hand ${r.on_hand}, reserved ${r.reserved}`),
    },
  ];
}
