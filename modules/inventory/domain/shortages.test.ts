import { describe, expect, test } from "bun:test";
import { findShortages, type SkuAvailability } from "./shortages.ts";

const stock = new Map<string, SkuAvailability>([
  ["PLENTY", { active: true, available: 10 }],
  ["FEW", { active: true, available: 2 }],
  ["RETIRED", { active: false, available: 50 }],
]);

describe("findShortages", () => {
  test("when every line is covered, then there is no shortage", () => {
    expect(findShortages([{ sku: "FEW", quantity: 2 }, { sku: "PLENTY", quantity: 10 }], stock)).toEqual([]);
  });

  test("when several lines are short, then each of them is reported with what is available", () => {
    expect(
      findShortages(
        [
          { sku: "FEW", quantity: 3 },
          { sku: "PLENTY", quantity: 1 },
          { sku: "RETIRED", quantity: 1 },
          { sku: "UNKNOWN", quantity: 4 },
        ],
        stock,
      ),
    ).toEqual([
      { sku: "FEW", requested: 3, available: 2 },
      { sku: "RETIRED", requested: 1, available: 0 },
      { sku: "UNKNOWN", requested: 4, available: 0 },
    ]);
  });
});
