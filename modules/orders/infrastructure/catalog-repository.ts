import { sql } from "drizzle-orm";
import { sqlOf, type Executor } from "../../../src/platform/db.ts";
import type { CatalogEntry } from "../domain/pricing.ts";
import type { CatalogRepository } from "../ports.ts";
import { catalog } from "./schema.ts";

// Every POST /orders reads it: one prepared statement whatever the number of skus.
const FIND_BY_SKUS = `select sku, name, price_cents::float8 as "priceCents", currency, active from orders.catalog where sku = any($1::text[])`;

/** The orders module's local price list, kept from inventory.product-upserted. */
export const catalogRepository: CatalogRepository = {
  /**
   * Stores the product as of inventory's `version` of it, then `changedAt` (when inventory changed it):
   * an event older than the stored row is ignored — retries and redeliveries can reorder events, and an
   * old price must not win. The version decides even for two changes within the same millisecond.
   * Returns whether the row changed.
   */
  async upsert(tx: Executor, entry: CatalogEntry & { version?: number }, changedAt: Date): Promise<boolean> {
    const fields = {
      name: entry.name,
      priceCents: entry.priceCents,
      currency: entry.currency,
      active: entry.active,
      version: entry.version ?? null,
      updatedAt: changedAt,
    };
    const written = await tx
      .insert(catalog)
      .values({ sku: entry.sku, ...fields })
      .onConflictDoUpdate({
        target: catalog.sku,
        set: fields,
        setWhere: sql`(coalesce(${catalog.version}, 0), ${catalog.updatedAt}) <= (coalesce(excluded.version, 0), excluded.updated_at)`,
      })
      .returning({ sku: catalog.sku });
    return written.length > 0;
  },

  /** The entries for these skus (active or not), by sku; a sku never seen is simply absent. */
  async findBySkus(db: Executor, skus: readonly string[]): Promise<Map<string, CatalogEntry>> {
    if (skus.length === 0) return new Map();
    const rows = await sqlOf(db).unsafe<CatalogEntry[]>(FIND_BY_SKUS, [[...skus]]);
    return new Map(rows.map((row) => [row.sku, row]));
  },
};

