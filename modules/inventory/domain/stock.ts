/** A product's stock: what is on the shelf and how much of it open orders hold. */
export interface StockLevel {
  onHand: number;
  reserved: number;
}

/** What can still be promised to a new order. */
export function availableStock(level: StockLevel): number {
  return level.onHand - level.reserved;
}

export type StockAdjustment =
  | { ok: true; onHand: number }
  /** `zero-delta`: nothing to do; `below-reserved`: the units held for open orders (or zero) would not be covered. */
  | { ok: false; reason: "zero-delta" | "below-reserved"; minimumDelta: number };

/**
 * Applies a manual stock correction (a delivery, a count, breakage). On-hand stock may never drop below
 * what open orders hold, nor below zero: those units are promised already.
 */
export function adjustStock(level: StockLevel, delta: number): StockAdjustment {
  const minimumDelta = Math.max(level.reserved, 0) - level.onHand;
  if (delta === 0) return { ok: false, reason: "zero-delta", minimumDelta };
  const onHand = level.onHand + delta;
  if (onHand < level.reserved || onHand < 0) return { ok: false, reason: "below-reserved", minimumDelta };
  return { ok: true, onHand };
}

/** The most units of one sku the catalog can count (a Postgres integer); asking for more can never be served. */
export const MAX_UNITS = 2_147_483_647;
