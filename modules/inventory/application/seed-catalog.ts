import type { Database } from "../../../src/platform/db.ts";
import { announceProduct } from "./announce-product.ts";
import type { CatalogFields } from "../domain/product.ts";
import type { InventoryDeps } from "../ports.ts";

/** A small catalog so a fresh installation can take orders at once. */
export const DEMO_CATALOG: (CatalogFields & { onHand: number })[] = [
  { sku: "MUG-WHITE", name: "White ceramic mug", priceCents: 1200, currency: "EUR", active: true, onHand: 100 },
  { sku: "SOCKS-STRIPED", name: "Striped socks", priceCents: 900, currency: "EUR", active: true, onHand: 60 },
  { sku: "TSHIRT-BLACK-M", name: "Black T-shirt, size M", priceCents: 1999, currency: "EUR", active: true, onHand: 50 },
  { sku: "TSHIRT-WHITE-L", name: "White T-shirt, size L", priceCents: 1999, currency: "EUR", active: true, onHand: 40 },
  { sku: "HOODIE-GREY-M", name: "Grey hoodie, size M", priceCents: 4900, currency: "EUR", active: true, onHand: 25 },
];

/**
 * Fills an empty catalog with DEMO_CATALOG and announces each product (so orders learns the prices).
 * Does nothing once the catalog has any product; two seeds racing insert (and announce) each product once.
 * Returns the skus it created.
 */
export async function seedCatalog(deps: Pick<InventoryDeps, "db" | "products" | "outbox">): Promise<string[]> {
  return deps.db.transaction(async (tx) => {
    if (!(await deps.products.isEmpty(tx))) return [];
    const created = await deps.products.insertMissing(tx, DEMO_CATALOG);
    const meta = { correlationId: `seed-${Bun.randomUUIDv7()}` };
    for (const product of created) await announceProduct(deps.outbox, tx, product, meta);
    return created.map((product) => product.sku);
  });
}
