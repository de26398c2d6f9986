import { Value } from "@sinclair/typebox/value";
import { readPage, type Keyset, type Page } from "../../../src/platform/paging.ts";
import { Sku } from "../contract.ts";
import type { Product } from "../domain/product.ts";
import type { InventoryDeps } from "../ports.ts";

export type ProductPage = Page<Product>;

/** The catalog pages by sku: a cursor carries the last sku of its page. */
const productKeyset: Keyset<Product, string> = {
  invalidCursorCode: "INVENTORY.INVALID_CURSOR",
  cursorOf: (product) => ({ sku: product.sku }),
  // The sku check refuses a payload no page could end at (e.g. a NUL character, which PostgreSQL refuses to compare).
  positionOf: (payload) => {
    const sku = typeof payload === "object" && payload !== null ? (payload as { sku?: unknown }).sku : undefined;
    return Value.Check(Sku, sku) ? sku : undefined;
  },
};

/**
 * One page of the catalog in sku order: the active products, or (for an admin) the retired ones too. Keyset paging
 * (after the last sku seen) rather than offsets: products added or retired between two pages shift nothing, so no
 * product is skipped or shown twice.
 */
export function listProducts(
  deps: Pick<InventoryDeps, "db" | "products">,
  page: { limit?: number; cursor?: string; includeRetired: boolean },
): Promise<ProductPage> {
  return readPage(productKeyset, page, ({ after, limit }) =>
    deps.products.list(deps.db, { afterSku: after, limit, includeRetired: page.includeRetired }),
  );
}
