import { MAX_LINE_QUANTITY, MAX_ORDER_LINES, MAX_SKU_LENGTH, MIN_LINE_QUANTITY } from "./order-limits.ts";
import type { OrderLine } from "./order.ts";

/** What the customer asks for: a sku and how many. Never a price. */
export interface RequestedLine {
  sku: string;
  quantity: number;
}

/** The orders module's local copy of one product's price (kept from inventory's events). */
export interface CatalogEntry {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  active: boolean;
}

export interface PricedOrder {
  lines: OrderLine[];
  totalCents: number;
  currency: string;
}

/** Why a set of lines cannot be priced: a stable code, a sentence, and the facts behind it. */
export interface PricingProblem {
  code:
    | "ORDERS.NO_LINES"
    | "ORDERS.TOO_MANY_LINES"
    | "ORDERS.INVALID_SKU"
    | "ORDERS.INVALID_QUANTITY"
    | "ORDERS.DUPLICATE_SKU"
    | "ORDERS.UNKNOWN_SKU"
    | "ORDERS.MIXED_CURRENCY"
    | "ORDERS.TOTAL_TOO_LARGE";
  message: string;
  details: Record<string, unknown>;
}

export type PricingResult = { ok: true; priced: PricedOrder } | { ok: false; problem: PricingProblem };

/**
 * Prices the requested lines from catalog entries: integer cents, one currency per order. Unknown or
 * inactive skus are refused all at once, so the customer can fix every line in one go.
 */
export function priceOrder(requested: readonly RequestedLine[], catalog: ReadonlyMap<string, CatalogEntry>): PricingResult {
  const limits = checkLimits(requested);
  if (limits) return { ok: false, problem: limits };

  const unknown = requested.filter((line) => !catalog.get(line.sku)?.active).map((line) => line.sku);
  if (unknown.length > 0) {
    return problem("ORDERS.UNKNOWN_SKU", `Unknown or unavailable sku: ${unknown.join(", ")}.`, { skus: unknown });
  }

  const lines: OrderLine[] = requested.map((line, index) => {
    const entry = catalog.get(line.sku)!;
    return {
      lineNo: index + 1,
      sku: entry.sku,
      name: entry.name,
      quantity: line.quantity,
      unitPriceCents: entry.priceCents,
      lineTotalCents: entry.priceCents * line.quantity,
    };
  });

  const currencies = [...new Set(requested.map((line) => catalog.get(line.sku)!.currency))];
  if (currencies.length > 1) {
    return problem("ORDERS.MIXED_CURRENCY", `One order takes one currency; these items are priced in ${currencies.join(", ")}.`, {
      currencies,
    });
  }

  const totalCents = lines.reduce((sum, line) => sum + line.lineTotalCents, 0);
  // Past 2^53 integer arithmetic in JS stops being exact; such an order is a mistake, not a sale.
  if (!Number.isSafeInteger(totalCents) || lines.some((line) => !Number.isSafeInteger(line.lineTotalCents))) {
    return problem("ORDERS.TOTAL_TOO_LARGE", "The order total is too large.", {});
  }
  return { ok: true, priced: { lines, totalCents, currency: currencies[0]! } };
}

function checkLimits(requested: readonly RequestedLine[]): PricingProblem | undefined {
  if (requested.length === 0) return problemOf("ORDERS.NO_LINES", "An order needs at least one item.", {});
  if (requested.length > MAX_ORDER_LINES) {
    return problemOf("ORDERS.TOO_MANY_LINES", `An order takes at most ${MAX_ORDER_LINES} lines.`, { maxLines: MAX_ORDER_LINES });
  }
  const badSkus = requested.filter((line) => line.sku.length === 0 || line.sku.length > MAX_SKU_LENGTH).map((line) => line.sku);
  if (badSkus.length > 0) {
    return problemOf("ORDERS.INVALID_SKU", `A sku has 1 to ${MAX_SKU_LENGTH} characters.`, { skus: badSkus });
  }
  const badQuantities = requested
    .filter((line) => !Number.isInteger(line.quantity) || line.quantity < MIN_LINE_QUANTITY || line.quantity > MAX_LINE_QUANTITY)
    .map((line) => line.sku);
  if (badQuantities.length > 0) {
    return problemOf(
      "ORDERS.INVALID_QUANTITY",
      `A quantity is a whole number from ${MIN_LINE_QUANTITY} to ${MAX_LINE_QUANTITY}.`,
      { skus: badQuantities },
    );
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const line of requested) (seen.has(line.sku) ? duplicates : seen).add(line.sku);
  if (duplicates.size > 0) {
    // Merging silently could exceed the per-line limit or hide a client bug; asking is clearer.
    return problemOf("ORDERS.DUPLICATE_SKU", `List each sku once: ${[...duplicates].join(", ")}.`, { skus: [...duplicates] });
  }
  return undefined;
}

function problemOf(code: PricingProblem["code"], message: string, details: Record<string, unknown>): PricingProblem {
  return { code, message, details };
}

function problem(code: PricingProblem["code"], message: string, details: Record<string, unknown>): PricingResult {
  return { ok: false, problem: problemOf(code, message, details) };
}
