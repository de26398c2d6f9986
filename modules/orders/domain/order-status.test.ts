import { describe, expect, test } from "bun:test";
import { canTransition, ORDER_STATUSES, statusesLeadingTo, type OrderStatus } from "./order-status.ts";

const ALLOWED: [OrderStatus, OrderStatus][] = [
  ["pending", "confirmed"],
  ["pending", "rejected"],
  ["pending", "cancelled"],
  ["confirmed", "cancelled"],
  ["confirmed", "shipped"],
];

describe("order lifecycle", () => {
  test("when a transition is in the lifecycle, then it is allowed, and every other pair is refused", () => {
    for (const from of ORDER_STATUSES) {
      for (const to of ORDER_STATUSES) {
        const expected = ALLOWED.some(([f, t]) => f === from && t === to);
        expect({ from, to, allowed: canTransition(from, to) }).toEqual({ from, to, allowed: expected });
      }
    }
  });

  test("when asked where a status can be reached from, then the lifecycle table answers", () => {
    expect(statusesLeadingTo("cancelled")).toEqual(["pending", "confirmed"]);
    expect(statusesLeadingTo("shipped")).toEqual(["confirmed"]);
    expect(statusesLeadingTo("pending")).toEqual([]);
  });

  test("when the statuses are listed, then every transition goes to a later one (no cycle: each status is reached once)", () => {
    for (const [from, to] of ALLOWED) expect(ORDER_STATUSES.indexOf(to)).toBeGreaterThan(ORDER_STATUSES.indexOf(from));
  });
});
