import type { Executor } from "../../../src/platform/db.ts";
import { NotFoundError } from "../../../src/platform/http/errors.ts";
import type { ProductRepository, ProductRow } from "../infrastructure/product-repository.ts";

export interface GetProductDeps {
  db: Executor;
  products: ProductRepository;
}

/** One product with its stock, active or not; NotFoundError `INVENTORY.PRODUCT_NOT_FOUND` when unknown. */
export async function getProduct(deps: GetProductDeps, sku: string): Promise<ProductRow> {
  const product = await deps.products.find(deps.db, sku);
  if (!product) throw productNotFound(sku);
  return product;
}

export function productNotFound(sku: string): NotFoundError {
  return new NotFoundError("INVENTORY.PRODUCT_NOT_FOUND", `No product has sku ${sku}.`, { sku });
}
