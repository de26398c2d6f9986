import type { Executor } from "../../../src/platform/db.ts";
import { NotFoundError } from "../../../src/platform/errors.ts";
import type { Product } from "../domain/product.ts";
import type { InventoryDeps } from "../ports.ts";

/**
 * One product with its stock; NotFoundError `INVENTORY.PRODUCT_NOT_FOUND` when unknown, and for a retired product
 * unless `includeRetired` (an admin's view): the storefront cannot tell a retired sku from one that never existed.
 */
export async function getProduct(deps: Pick<InventoryDeps, "db" | "products">, sku: string, options: { includeRetired: boolean }): Promise<Product> {
  const product = await deps.products.find(deps.db, sku);
  if (!product || (!product.active && !options.includeRetired)) throw productNotFound(sku);
  return product;
}

export function productNotFound(sku: string): NotFoundError {
  return new NotFoundError("INVENTORY.PRODUCT_NOT_FOUND", `No product has sku ${sku}.`, { sku });
}
