import { Value } from "@sinclair/typebox/value";
import type { Executor } from "../../../src/platform/db.ts";
import { InvalidError } from "../../../src/platform/errors.ts";
import { Sku } from "../contract.ts";
import type { Product } from "../domain/product.ts";
import type { InventoryDeps } from "../ports.ts";

export interface ProductPage {
  items: Product[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/**
 * One page of the catalog in sku order: the active products, or (for an admin) the retired ones too. Keyset paging (after the last sku seen) rather than offsets:
 * products added or retired between two pages shift nothing, so no product is skipped or shown twice.
 */
export async function listProducts(
  deps: Pick<InventoryDeps, "db" | "products">,
  page: { limit: number; cursor?: string; includeRetired: boolean },
): Promise<ProductPage> {
  const afterSku = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  // One extra row tells whether another page exists without a count query.
  const rows = await deps.products.list(deps.db, { afterSku, limit: page.limit + 1, includeRetired: page.includeRetired });
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > page.limit && last ? encodeCursor(last.sku) : null };
}

/** The opaque cursor of a page that ends at `sku`: clients must not build or read it. */
export function encodeCursor(sku: string): string {
  return Buffer.from(sku, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const sku = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  // Round-tripping rejects text that merely looks like base64url (and empty or garbled payloads); the sku
  // check, a payload no page could end at (e.g. "AA" is a NUL character, which PostgreSQL refuses to compare).
  if (sku === "" || encodeCursor(sku) !== cursor || !Value.Check(Sku, sku)) {
    throw new InvalidError("INVENTORY.INVALID_CURSOR", "The cursor is not one this API handed out.", {
      errors: [{ in: "query", field: "/cursor", message: "Unknown cursor" }],
    });
  }
  return sku;
}
