import type { Executor } from "../../../src/platform/db.ts";
import { NotFoundError } from "../../../src/platform/errors.ts";
import type { ProductRepository, ProductRow } from "../infrastructure/product-repository.ts";

export interface GetProductDeps {
  db: Executor;
  products: ProductRepository;
}

/**
 * One product with its stock; NotFoundError `INVENTORY.PRODUCT_NOT_FOUND` when unknown, and for a retired product
 * unless `includeRetired` (an admin's view): the storefront cannot tell a retired sku from one that never existed.
 */
export async function getProduct(deps: GetProductDeps, sku: string, options: { includeRetired: boolean }): Promise<ProductRow> {
  const product = await deps.products.find(deps.db, sku);
  if (!product || (!product.active && !options.includeRetired)) throw productNotFound(sku);
  return product;
}

export function productNotFound(sku: string): NotFoundError {
  return new NotFoundError("INVENTORY.PRODUCT_NOT_FOUND", `No product has sku ${sku}.`, { sku });
}
