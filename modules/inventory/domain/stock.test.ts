import { describe, expect, test } from "bun:test";
import { adjustStock, availableStock } from "./stock.ts";

describe("stock", () => {
  test("when units are reserved, then only the rest is available", () => {
    expect(availableStock({ onHand: 10, reserved: 4 })).toBe(6);
  });

  test("when stock is added or removed above what is reserved, then on-hand changes by the delta", () => {
    expect(adjustStock({ onHand: 10, reserved: 4 }, 5)).toEqual({ ok: true, onHand: 15 });
    expect(adjustStock({ onHand: 10, reserved: 4 }, -6)).toEqual({ ok: true, onHand: 4 });
  });

  test("when removal would leave less than what is reserved, then it is refused with the lowest allowed delta", () => {
    expect(adjustStock({ onHand: 10, reserved: 4 }, -7)).toEqual({ ok: false, reason: "below-reserved", minimumDelta: -6 });
  });

  test("when removal would go below zero with nothing reserved, then it is refused", () => {
    expect(adjustStock({ onHand: 3, reserved: 0 }, -4)).toEqual({ ok: false, reason: "below-reserved", minimumDelta: -3 });
  });

  test("when the delta is zero, then it is refused", () => {
    expect(adjustStock({ onHand: 3, reserved: 0 }, 0)).toMatchObject({ ok: false, reason: "zero-delta" });
  });
});
