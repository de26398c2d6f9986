import { describe, expect, test } from "bun:test";
import { afterFailedAttempt, DEFAULT_RETRY_POLICY } from "./delivery-policy.ts";

describe("afterFailedAttempt", () => {
  test("when attempts remain, then the e-mail stays pending with a backoff that grows", () => {
    const delays = [0, 1, 2, 3].map((previous) => afterFailedAttempt(previous, DEFAULT_RETRY_POLICY));
    expect(delays).toEqual([
      { status: "pending", attempts: 1, retryInMs: 1_000 },
      { status: "pending", attempts: 2, retryInMs: 5_000 },
      { status: "pending", attempts: 3, retryInMs: 30_000 },
      { status: "pending", attempts: 4, retryInMs: 120_000 },
    ]);
  });

  test("when the last attempt failed, then the e-mail is failed", () => {
    expect(afterFailedAttempt(4, DEFAULT_RETRY_POLICY)).toEqual({ status: "failed", attempts: 5 });
  });

  test("when there are more attempts than delays, then the last delay repeats", () => {
    const policy = { maxAttempts: 10, backoffMs: [10, 20] };
    expect(afterFailedAttempt(5, policy)).toEqual({ status: "pending", attempts: 6, retryInMs: 20 });
  });
});
