import type { StockLine } from "./reservation-plan.ts";

/** A line that cannot be reserved: how much was asked and how much could be had. */
export interface Shortage {
  sku: string;
  requested: number;
  available: number;
}

/** What the catalog says about one sku at the moment of the check. */
export interface SkuAvailability {
  active: boolean;
  available: number;
}

/**
 * Every planned line the stock cannot cover, in plan order. An unknown or inactive sku counts as
 * 0 available: it cannot be sold, whatever sits on the shelf.
 */
export function findShortages(plan: readonly StockLine[], stock: ReadonlyMap<string, SkuAvailability>): Shortage[] {
  const shortages: Shortage[] = [];
  for (const line of plan) {
    const entry = stock.get(line.sku);
    const available = entry?.active ? Math.max(0, entry.available) : 0;
    if (line.quantity > available) shortages.push({ sku: line.sku, requested: line.quantity, available });
  }
  return shortages;
}
