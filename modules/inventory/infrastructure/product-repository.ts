import { and, asc, eq, getTableColumns, gt, inArray, sql } from "drizzle-orm";
import type { Executor } from "../../../src/platform/db.ts";
import { products } from "./schema.ts";

export type ProductRow = typeof products.$inferSelect;

/** The catalog fields an admin sets on a product (stock is changed separately). */
export interface CatalogFields {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  active: boolean;
}

/** What PUT /products/:sku sets on a product: name and price always, currency and active only when given. */
export interface CatalogChange {
  sku: string;
  name: string;
  priceCents: number;
  currency?: string;
  active?: boolean;
}

/**
 * Postgres access to `inventory.products`. Every stock change is a single conditional UPDATE: the row lock it
 * takes and the condition it re-checks after waiting for that lock are what make overselling impossible.
 */
export const productRepository = {
  async find(db: Executor, sku: string): Promise<ProductRow | undefined> {
    const [row] = await db.select().from(products).where(eq(products.sku, sku));
    return row;
  },

  /** Products after `afterSku` (keyset), in sku order: the active ones, or retired ones too. */
  async list(db: Executor, page: { afterSku?: string; limit: number; includeRetired: boolean }): Promise<ProductRow[]> {
    const after = page.afterSku === undefined ? undefined : gt(products.sku, page.afterSku);
    return db
      .select()
      .from(products)
      .where(and(page.includeRetired ? undefined : eq(products.active, true), after))
      .orderBy(asc(products.sku))
      .limit(page.limit);
  },

  /**
   * Creates the product from `creation`'s values, or changes an existing one's name and price (and `active` when
   * given) and nothing else: stock and currency are never touched. When `change.currency` is given and differs
   * from the stored one, nothing is written and the answer is undefined (the row stays locked until the
   * transaction ends, so the caller can read what it holds).
   */
  async upsert(
    db: Executor,
    change: CatalogChange,
    creation: { currency: string; active: boolean; onHand: number },
  ): Promise<{ product: ProductRow; created: boolean } | undefined> {
    const [row] = await db
      .insert(products)
      .values({ sku: change.sku, name: change.name, priceCents: change.priceCents, ...creation })
      .onConflictDoUpdate({
        target: products.sku,
        set: {
          name: change.name,
          priceCents: change.priceCents,
          active: change.active ?? sql`${products.active}`,
          version: sql`${products.version} + 1`,
          updatedAt: sql`now()`,
        },
        setWhere: change.currency === undefined ? undefined : eq(products.currency, change.currency),
      })
      // xmax is 0 only on a freshly inserted row version: the one way to tell insert from update in one statement.
      .returning({ ...getTableColumns(products), created: sql<boolean>`(xmax = 0)` });
    if (!row) return undefined;
    const { created, ...product } = row;
    return { product, created };
  },

  /** Adds `delta` to on-hand stock unless that would leave less than is reserved; undefined when refused or unknown. */
  async adjustOnHand(db: Executor, sku: string, delta: number): Promise<ProductRow | undefined> {
    const [row] = await db
      .update(products)
      .set({ onHand: sql`${products.onHand} + ${delta}`, version: sql`${products.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(products.sku, sku), sql`${products.onHand} + ${delta} >= ${products.reserved}`))
      .returning();
    return row;
  },

  /** Gives reserved units back to the available stock. */
  async release(db: Executor, sku: string, quantity: number): Promise<void> {
    await db
      .update(products)
      .set({ reserved: sql`${products.reserved} - ${quantity}` })
      .where(eq(products.sku, sku));
  },

  /** Reserved units leave the warehouse: both on-hand and reserved drop, available stays as it was. */
  async consume(db: Executor, sku: string, quantity: number): Promise<void> {
    await db
      .update(products)
      .set({ onHand: sql`${products.onHand} - ${quantity}`, reserved: sql`${products.reserved} - ${quantity}` })
      .where(eq(products.sku, sku));
  },

  async isEmpty(db: Executor): Promise<boolean> {
    const rows = await db.select({ sku: products.sku }).from(products).limit(1);
    return rows.length === 0;
  },

  /** Inserts the products whose sku is not taken yet; returns only those it inserted. */
  async insertMissing(db: Executor, rows: (CatalogFields & { onHand: number })[]): Promise<ProductRow[]> {
    if (rows.length === 0) return [];
    return db.insert(products).values(rows).onConflictDoNothing({ target: products.sku }).returning();
  },
};

export type ProductRepository = typeof productRepository;
