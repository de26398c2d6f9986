import type { Database } from "../../../src/platform/db.ts";
import { ConflictError } from "../../../src/platform/errors.ts";
import type { EnvelopeMeta } from "../../../src/platform/messaging/envelope.ts";
import { announceProduct } from "./announce-product.ts";
import type { CatalogChange, Product } from "../domain/product.ts";
import type { InventoryDeps } from "../ports.ts";

/** The currency of a product created without one. */
export const DEFAULT_CURRENCY = "EUR";

export interface ProductInput extends CatalogChange {
  /** On-hand units of a product being created; ignored for an existing one (stock moves via adjustStock). */
  stock?: number;
}

/**
 * Creates the product or changes its catalog fields, and announces it (same transaction).
 *
 * An existing product keeps whatever the request leaves out: its `active` flag when `active` is absent, and its
 * stock always, so repeating the same PUT is harmless even after orders reserved some. A new one gets
 * DEFAULT_CURRENCY and `active` when they are absent.
 *
 * A product's currency never changes: a price is a number of minor units of one currency, and the same number in
 * another currency is another price (orders copies the catalog from the announcement and would price every later
 * order with it). ConflictError `INVENTORY.CURRENCY_CHANGE` (409) when `currency` differs from the stored one;
 * nothing is written then. To sell in another currency, retire the sku and create a new one.
 */
export async function upsertProduct(
  deps: Pick<InventoryDeps, "db" | "products" | "outbox">,
  input: ProductInput,
  meta: EnvelopeMeta,
): Promise<{ product: Product; created: boolean }> {
  const { stock, ...change } = input;
  const creation = { currency: change.currency ?? DEFAULT_CURRENCY, active: change.active ?? true, onHand: stock ?? 0 };
  return deps.db.transaction(async (tx) => {
    const result = await deps.products.upsert(tx, change, creation);
    if (!result) {
      const stored = await deps.products.find(tx, change.sku);
      throw currencyChange(change.sku, stored?.currency ?? "", change.currency ?? "");
    }
    await announceProduct(deps.outbox, tx, result.product, meta);
    return result;
  });
}

function currencyChange(sku: string, currentCurrency: string, requested: string): ConflictError {
  return new ConflictError(
    "INVENTORY.CURRENCY_CHANGE",
    `Product ${sku} is priced in ${currentCurrency}; its currency cannot become ${requested}. ` +
      "Leave currency out (or send the current one) to keep it; to sell in another currency, retire this sku and create a new one.",
    {
      sku,
      currentCurrency,
      errors: [{ in: "body", field: "/currency", message: `Must stay ${currentCurrency}: a product keeps the currency it was created with` }],
    },
  );
}
