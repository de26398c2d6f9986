/** One sku and how many units of it an order asks for. */
export interface StockLine {
  sku: string;
  quantity: number;
}

/**
 * What to reserve for an order: one line per sku (quantities of repeated skus added up), sorted by sku.
 * Every reservation locks its product rows in this same order, so two orders sharing skus wait for each
 * other instead of deadlocking. The comparison is by UTF-16 code units, not locale, so that every process
 * agrees on it.
 */
export function planReservation(lines: readonly StockLine[]): StockLine[] {
  const totals = new Map<string, number>();
  for (const line of lines) {
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1) {
      throw new RangeError(`quantity of ${line.sku} must be a positive integer, got ${line.quantity}`);
    }
    totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
  }
  return [...totals]
    .map(([sku, quantity]) => ({ sku, quantity }))
    .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}
