import { describe, expect, test } from "bun:test";
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES } from "./order-limits.ts";
import { priceOrder, type CatalogEntry } from "./pricing.ts";

function catalogOf(...entries: Partial<CatalogEntry>[]): Map<string, CatalogEntry> {
  return new Map(
    entries.map((e, i) => {
      const entry: CatalogEntry = { sku: `SKU-${i}`, name: `Product ${i}`, priceCents: 100, currency: "EUR", active: true, ...e };
      return [entry.sku, entry];
    }),
  );
}

const catalog = catalogOf(
  { sku: "MUG", name: "Mug", priceCents: 1299 },
  { sku: "TEE", name: "T-shirt", priceCents: 2500 },
  { sku: "OLD", name: "Retired", priceCents: 500, active: false },
  { sku: "USD-CAP", name: "Cap", priceCents: 900, currency: "USD" },
);

describe("pricing", () => {
  test("when every sku is known, then lines are priced in integer cents from the catalog, in the order asked", () => {
    const result = priceOrder(
      [
        { sku: "TEE", quantity: 2 },
        { sku: "MUG", quantity: 3 },
      ],
      catalog,
    );
    expect(result).toEqual({
      ok: true,
      priced: {
        lines: [
          { lineNo: 1, sku: "TEE", name: "T-shirt", quantity: 2, unitPriceCents: 2500, lineTotalCents: 5000 },
          { lineNo: 2, sku: "MUG", name: "Mug", quantity: 3, unitPriceCents: 1299, lineTotalCents: 3897 },
        ],
        totalCents: 8897,
        currency: "EUR",
      },
    });
  });

  test("when skus are unknown or inactive, then ORDERS.UNKNOWN_SKU names all of them", () => {
    const result = priceOrder(
      [
        { sku: "MUG", quantity: 1 },
        { sku: "NOPE", quantity: 1 },
        { sku: "OLD", quantity: 1 },
      ],
      catalog,
    );
    expect(result).toMatchObject({ ok: false, problem: { code: "ORDERS.UNKNOWN_SKU", details: { skus: ["NOPE", "OLD"] } } });
    if (!result.ok) expect(result.problem.message).toContain("NOPE, OLD");
  });

  test("when items are priced in two currencies, then ORDERS.MIXED_CURRENCY", () => {
    const result = priceOrder(
      [
        { sku: "MUG", quantity: 1 },
        { sku: "USD-CAP", quantity: 1 },
      ],
      catalog,
    );
    expect(result).toMatchObject({ ok: false, problem: { code: "ORDERS.MIXED_CURRENCY", details: { currencies: ["EUR", "USD"] } } });
  });

  test("when the lines break a limit, then the matching problem comes back", () => {
    const cases: [Parameters<typeof priceOrder>[0], string][] = [
      [[], "ORDERS.NO_LINES"],
      [Array.from({ length: MAX_ORDER_LINES + 1 }, (_, i) => ({ sku: `S${i}`, quantity: 1 })), "ORDERS.TOO_MANY_LINES"],
      [[{ sku: "MUG", quantity: 0 }], "ORDERS.INVALID_QUANTITY"],
      [[{ sku: "MUG", quantity: MAX_LINE_QUANTITY + 1 }], "ORDERS.INVALID_QUANTITY"],
      [[{ sku: "MUG", quantity: 1.5 }], "ORDERS.INVALID_QUANTITY"],
      [[{ sku: "x".repeat(65), quantity: 1 }], "ORDERS.INVALID_SKU"],
      [
        [
          { sku: "MUG", quantity: 1 },
          { sku: "MUG", quantity: 2 },
        ],
        "ORDERS.DUPLICATE_SKU",
      ],
    ];
    for (const [lines, code] of cases) expect(priceOrder(lines, catalog)).toMatchObject({ ok: false, problem: { code } });
  });

  test("when the limits are at their edge, then the order is priced", () => {
    const many = catalogOf(...Array.from({ length: MAX_ORDER_LINES }, (_, i) => ({ sku: `S${i}` })));
    const result = priceOrder(
      [...many.keys()].map((sku) => ({ sku, quantity: MAX_LINE_QUANTITY })),
      many,
    );
    expect(result).toMatchObject({ ok: true, priced: { totalCents: MAX_ORDER_LINES * MAX_LINE_QUANTITY * 100 } });
  });

  test("when the total would pass what integers hold exactly, then ORDERS.TOTAL_TOO_LARGE", () => {
    const huge = catalogOf({ sku: "GOLD", priceCents: Number.MAX_SAFE_INTEGER });
    expect(priceOrder([{ sku: "GOLD", quantity: 2 }], huge)).toMatchObject({ ok: false, problem: { code: "ORDERS.TOTAL_TOO_LARGE" } });
  });

  test("when a price is zero, then the line is free, not refused", () => {
    const free = catalogOf({ sku: "STICKER", priceCents: 0 });
    expect(priceOrder([{ sku: "STICKER", quantity: 5 }], free)).toMatchObject({ ok: true, priced: { totalCents: 0 } });
  });
});
