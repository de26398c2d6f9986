import { describe, expect, test } from "bun:test";
import { canonicalJson, IDEMPOTENCY_KEY_PATTERN, judgeExistingKey, requestHash, type ExistingKey } from "./idempotency-key.ts";
import { openOrder } from "./order.ts";

describe("idempotency key", () => {
  test("when two bodies differ only in key order, then their canonical JSON and hash are equal", () => {
    const a = { items: [{ sku: "MUG", quantity: 2 }], note: { b: 1, a: [true, null] } };
    const b = { note: { a: [true, null], b: 1 }, items: [{ quantity: 2, sku: "MUG" }] };
    expect(canonicalJson(a)).toBe('{"items":[{"quantity":2,"sku":"MUG"}],"note":{"a":[true,null],"b":1}}');
    expect(requestHash(a)).toBe(requestHash(b));
    expect(requestHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  test("when the lines come in another order or another quantity, then the hash differs", () => {
    const mugThenTee = { items: [{ sku: "MUG", quantity: 1 }, { sku: "TEE", quantity: 1 }] };
    const teeThenMug = { items: [{ sku: "TEE", quantity: 1 }, { sku: "MUG", quantity: 1 }] };
    const twoMugs = { items: [{ sku: "MUG", quantity: 2 }, { sku: "TEE", quantity: 1 }] };
    expect(requestHash(mugThenTee)).not.toBe(requestHash(teeThenMug));
    expect(requestHash(mugThenTee)).not.toBe(requestHash(twoMugs));
  });

  test("when a key is already taken, then the same request replays or waits and another request is refused", () => {
    const order = openOrder({ id: "o1", customer: { id: "c1", email: "c1@example.com" }, lines: [], totalCents: 0, currency: "EUR", at: new Date() });
    const completed: ExistingKey = { requestHash: "h1", status: "completed", placedOrder: order };
    const inFlight: ExistingKey = { requestHash: "h1", status: "in_flight", placedOrder: null };
    expect(judgeExistingKey(completed, "h1")).toEqual({ kind: "replay", order });
    expect(judgeExistingKey(inFlight, "h1")).toEqual({ kind: "in-flight" });
    expect(judgeExistingKey(completed, "h2")).toEqual({ kind: "reused" });
    expect(judgeExistingKey(inFlight, "h2")).toEqual({ kind: "reused" });
  });

  test("when a key is checked against the pattern, then only printable ASCII passes", () => {
    const pattern = new RegExp(IDEMPOTENCY_KEY_PATTERN);
    for (const ok of ["a", "order-2025-01-01#1", "with space", "~!@{}"]) expect(pattern.test(ok)).toBe(true);
    for (const bad of ["", "tab\there", "é", "line\nbreak", "\u0000"]) expect(pattern.test(bad)).toBe(false);
  });
});
