import type { Database } from "../../../src/platform/db.ts";
import type { EnvelopeMeta } from "../../../src/platform/messaging/envelope.ts";
import type { Outbox } from "../../../src/platform/messaging/outbox.ts";
import type { CatalogFields, ProductRepository, ProductRow } from "../infrastructure/product-repository.ts";
import { announceProduct } from "./announce-product.ts";

export interface UpsertProductDeps {
  db: Database;
  products: ProductRepository;
  outbox: Outbox;
}

export interface ProductInput extends CatalogFields {
  /** On-hand units of a product being created; ignored for an existing one (stock moves via adjustStock). */
  stock?: number;
}

/**
 * Creates the product or replaces its catalog fields, and announces it (same transaction). An existing
 * product's stock is left alone, so repeating the same PUT is harmless even after orders reserved some.
 */
export async function upsertProduct(
  deps: UpsertProductDeps,
  input: ProductInput,
  meta: EnvelopeMeta,
): Promise<{ product: ProductRow; created: boolean }> {
  const { stock, ...fields } = input;
  return deps.db.transaction(async (tx) => {
    const result = await deps.products.upsert(tx, fields, stock ?? 0);
    await announceProduct(deps.outbox, tx, result.product, meta);
    return result;
  });
}
