/** Where an e-mail stands: owed (`pending`), handed to the mail server (`sent`), or given up on (`failed`). */
export type DeliveryStatus = "pending" | "sent" | "failed";

export interface RetryPolicy {
  /** Sending attempts before an e-mail is marked `failed`. */
  maxAttempts: number;
  /** Wait after the 1st, 2nd, … failure; the last entry repeats. */
  backoffMs: readonly number[];
}

/** 1 s, 5 s, 30 s, 2 min, then give up: about 2.5 minutes of a mail server being away. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, backoffMs: [1_000, 5_000, 30_000, 120_000] };

export type AfterFailure = { status: "failed"; attempts: number } | { status: "pending"; attempts: number; retryInMs: number };

/** What becomes of an e-mail whose sending just failed, given how often it had been tried before. */
export function afterFailedAttempt(previousAttempts: number, policy: RetryPolicy): AfterFailure {
  const attempts = previousAttempts + 1;
  if (attempts >= policy.maxAttempts) return { status: "failed", attempts };
  const { backoffMs } = policy;
  const retryInMs = backoffMs[Math.min(attempts - 1, backoffMs.length - 1)] ?? 0;
  return { status: "pending", attempts, retryInMs };
}
