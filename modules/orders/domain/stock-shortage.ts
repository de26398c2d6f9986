/** A line inventory could not reserve: how many were asked for and how many were left. */
export interface Shortage {
  sku: string;
  requested: number;
  available: number;
}

/** The status reason of a rejected order, e.g. `insufficient stock: SKU-A (requested 3, available 1)`. */
export function shortageReason(shortages: readonly Shortage[]): string {
  if (shortages.length === 0) return "insufficient stock";
  const lines = shortages.map((s) => `${s.sku} (requested ${s.requested}, available ${s.available})`);
  return `insufficient stock: ${lines.join(", ")}`;
}
