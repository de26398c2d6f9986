import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { planReservation } from "./reservation-plan.ts";

describe("planReservation", () => {
  test("when a sku appears twice, then its quantities are added into one line", () => {
    expect(planReservation([{ sku: "A", quantity: 2 }, { sku: "B", quantity: 1 }, { sku: "A", quantity: 3 }])).toEqual([
      { sku: "A", quantity: 5 },
      { sku: "B", quantity: 1 },
    ]);
  });

  test("when lines come in any order, then the plan is sorted by sku (code units, not locale)", () => {
    expect(planReservation([{ sku: "b", quantity: 1 }, { sku: "B", quantity: 1 }, { sku: "A-2", quantity: 1 }, { sku: "A-10", quantity: 1 }]).map((l) => l.sku)).toEqual([
      "A-10",
      "A-2",
      "B",
      "b",
    ]);
  });

  test("when there are no lines, then the plan is empty", () => {
    expect(planReservation([])).toEqual([]);
  });

  test("when a quantity is not a positive integer, then it is refused", () => {
    expect(() => planReservation([{ sku: "A", quantity: 0 }])).toThrow(RangeError);
    expect(() => planReservation([{ sku: "A", quantity: 1.5 }])).toThrow(RangeError);
  });

  test("when lines are shuffled, then the plan is the same and keeps every unit", () => {
    const line = fc.record({ sku: fc.constantFrom("A", "B", "C", "D"), quantity: fc.integer({ min: 1, max: 50 }) });
    const linesAndShuffle = fc
      .array(line, { maxLength: 20 })
      .chain((lines) => fc.tuple(fc.constant(lines), fc.shuffledSubarray(lines, { minLength: lines.length, maxLength: lines.length })));
    fc.assert(
      fc.property(linesAndShuffle, ([lines, shuffled]) => {
        const plan = planReservation(lines);
        expect(planReservation(shuffled)).toEqual(plan);
        expect(new Set(plan.map((l) => l.sku)).size).toBe(plan.length);
        expect(plan.reduce((sum, l) => sum + l.quantity, 0)).toBe(lines.reduce((sum, l) => sum + l.quantity, 0));
      }),
    );
  });
});
