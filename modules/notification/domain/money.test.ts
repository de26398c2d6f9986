import { describe, expect, test } from "bun:test";
import { formatMoney } from "./money.ts";

describe("formatMoney", () => {
  test("when given cents of a two-digit currency, then it shows major units, separators and the symbol", () => {
    expect(formatMoney(123456, "EUR")).toBe("€1,234.56");
    expect(formatMoney(5, "USD")).toBe("$0.05");
    expect(formatMoney(0, "EUR")).toBe("€0.00");
  });

  test("when the currency has no minor unit, then the integer is already the whole amount", () => {
    expect(formatMoney(500, "JPY")).toBe("¥500");
  });

  test("when the currency has three minor digits, then three decimals are shown", () => {
    expect(formatMoney(1234, "KWD")).toMatch(/1\.234/);
  });

  test("when the amount is huge, then not a cent is lost to floating point", () => {
    expect(formatMoney(Number.MAX_SAFE_INTEGER, "EUR")).toBe("€90,071,992,547,409.91");
  });

  test("when the amount is negative, then it is shown with a minus sign", () => {
    expect(formatMoney(-250, "EUR")).toBe("-€2.50");
  });
});
