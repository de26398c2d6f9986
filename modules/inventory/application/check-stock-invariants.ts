import type { InvariantCheck } from "../../../src/platform/module.ts";
import type { InventoryDeps } from "../ports.ts";

/**
 * Reconciliation: every product's `reserved` equals the sum of its held reservations, and no stock
 * figure is negative. The CHECK constraints make the second impossible; it is verified all the same.
 */
export async function checkStockInvariants(deps: Pick<InventoryDeps, "db" | "products">): Promise<InvariantCheck[]> {
  const mismatches = await deps.products.findReservedMismatches(deps.db);
  const negative = await deps.products.findNegativeStock(deps.db);
  return [
    {
      name: "inventory: reserved equals the sum of open reservations",
      violations: mismatches.map((r) => `${r.sku}: reserved ${r.reserved}, held reservations add up to ${r.held}`),
    },
    {
      name: "inventory: no negative stock",
      violations: negative.map((r) => `${r.sku}: on hand ${r.onHand}, reserved ${r.reserved}`),
    },
  ];
}
