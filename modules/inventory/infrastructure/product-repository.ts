import { and, asc, eq, getTableColumns, gt, inArray, sql } from "drizzle-orm";
import type { Executor } from "../../../src/platform/db.ts";
import type { CatalogChange, CatalogFields } from "../domain/product.ts";
import type { ProductRepository } from "../ports.ts";
import { products } from "./schema.ts";

/**
 * Postgres access to `inventory.products`. Every stock change is a single conditional UPDATE: the row lock it
 * takes and the condition it re-checks after waiting for that lock are what make overselling impossible.
 */
export const productRepository: ProductRepository = {
  async find(db: Executor, sku: string): Promise<typeof products.$inferSelect | undefined> {
    const [row] = await db.select().from(products).where(eq(products.sku, sku));
    return row;
  },

  /** Products after `afterSku` (keyset), in sku order: the active ones, or retired ones too. */
  async list(db: Executor, page: { afterSku?: string; limit: number; includeRetired: boolean }): Promise<typeof products.$inferSelect[]> {
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
  ): Promise<{ product: typeof products.$inferSelect; created: boolean } | undefined> {
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
  async adjustOnHand(db: Executor, sku: string, delta: number): Promise<typeof products.$inferSelect | undefined> {
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
  async insertMissing(db: Executor, rows: (CatalogFields & { onHand: number })[]): Promise<typeof products.$inferSelect[]> {
    if (rows.length === 0) return [];
    return db.insert(products).values(rows).onConflictDoNothing({ target: products.sku }).returning();
  },

  async findReservedMismatches(db: Executor): Promise<Array<{ sku: string; reserved: number; held: number }>> {
    const rows = await db.execute<{ sku: string; reserved: number; held: number }>(sql`
      select p.sku, p.reserved, coalesce(sum(r.quantity) filter (where r.status = 'held'), 0)::int as held
      from inventory.products p left join inventory.reservations r on r.sku = p.sku
      group by p.sku, p.reserved
      having p.reserved <> coalesce(sum(r.quantity) filter (where r.status = 'held'), 0)
      order by p.sku`);
    return [...rows];
  },

  async findNegativeStock(db: Executor): Promise<Array<{ sku: string; onHand: number; reserved: number }>> {
    const rows = await db.execute<{ sku: string; on_hand: number; reserved: number }>(sql`
      select sku, on_hand, reserved from inventory.products
      where on_hand < 0 or reserved < 0 or on_hand < reserved order by sku`);
    return [...rows].map((r) => ({ sku: r.sku, onHand: r.on_hand, reserved: r.reserved }));
  },
};
