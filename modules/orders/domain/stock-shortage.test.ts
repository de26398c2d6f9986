import { expect, test } from "bun:test";
import { shortageReason } from "./stock-shortage.ts";

test("when stock is short on several skus, then the reason names each with requested and available", () => {
  expect(
    shortageReason([
      { sku: "SKU-A", requested: 3, available: 1 },
      { sku: "SKU-B", requested: 2, available: 0 },
    ]),
  ).toBe("insufficient stock: SKU-A (requested 3, available 1), SKU-B (requested 2, available 0)");
});

test("when no shortage is listed, then the reason still says insufficient stock", () => {
  expect(shortageReason([])).toBe("insufficient stock");
});
