import { expect, test } from "bun:test";
import { createRateLimiter } from "./rate-limit.ts";

test("a key spends its minute's requests at once, then waits for the next token; other keys are not affected", () => {
  let now = 0;
  const limiter = createRateLimiter({ perMinute: 6, now: () => now });
  expect(Array.from({ length: 6 }, () => limiter.take("a"))).toEqual(Array(6).fill(0));
  expect(limiter.take("a")).toBe(10_000);
  expect(limiter.take("b")).toBe(0);
  now += 4_000;
  expect(limiter.take("a")).toBe(6_000);
  now += 6_000;
  expect(limiter.take("a")).toBe(0);
  expect(limiter.take("a")).toBe(10_000);
});

test("a key idle long enough to refill is forgotten, and no more than the maximum of keys is kept", () => {
  let now = 0;
  const limiter = createRateLimiter({ perMinute: 60, now: () => now }, 3);
  limiter.take("a");
  limiter.take("b");
  expect(limiter.size).toBe(2);
  now += 60_000;
  limiter.take("c");
  expect(limiter.size).toBe(1);

  for (const key of ["d", "e", "f", "g"]) limiter.take(key);
  expect(limiter.size).toBe(3);
});

test("a clock that steps back refills nothing", () => {
  let now = 10_000;
  const limiter = createRateLimiter({ perMinute: 1, now: () => now });
  expect(limiter.take("a")).toBe(0);
  now -= 5_000;
  expect(limiter.take("a")).toBe(60_000);
});
