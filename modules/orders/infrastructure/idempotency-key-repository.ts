import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../../../src/platform/db.ts";
import type { ExistingKey, StoredResponse } from "../domain/idempotency-key.ts";
import { idempotencyKeys } from "./schema.ts";

/** One request's hold on a key: only the holder may complete or release it. */
export interface IdempotencyClaim {
  customerId: string;
  key: string;
  claimId: string;
}

// Durations are compared on the database clock, so instances with skewed clocks agree on what is stale.
const olderThan = (ms: number) => sql`${idempotencyKeys.createdAt} < now() - ${ms} * interval '1 millisecond'`;
const isClaim = (claim: IdempotencyClaim) =>
  and(eq(idempotencyKeys.customerId, claim.customerId), eq(idempotencyKeys.key, claim.key), eq(idempotencyKeys.claimId, claim.claimId));

/** The `Idempotency-Key`s of POST /orders (orders.idempotency_keys). */
export const idempotencyKeyRepository = {
  /** Forgets this customer's keys older than `retentionMs`. Returns how many were deleted. */
  async deleteExpired(db: Executor, customerId: string, retentionMs: number): Promise<number> {
    const deleted = await db
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.customerId, customerId), olderThan(retentionMs)))
      .returning({ key: idempotencyKeys.key });
    return deleted.length;
  },

  /**
   * Claims the key as in flight, in one statement that commits on its own (call it on the pool, not in
   * a transaction, or other requests would not see the claim). Succeeds for a new key, or takes over
   * a claim for the same request (same hash) that has been in flight longer than `abandonedAfterMs`.
   * Returns false when the key is held or was used: read it with `find`.
   */
  async claim(db: Executor, claim: IdempotencyClaim & { requestHash: string; abandonedAfterMs: number }): Promise<boolean> {
    const claimed = await db
      .insert(idempotencyKeys)
      .values({ customerId: claim.customerId, key: claim.key, requestHash: claim.requestHash, status: "in_flight", claimId: claim.claimId })
      .onConflictDoUpdate({
        target: [idempotencyKeys.customerId, idempotencyKeys.key],
        set: { claimId: sql`excluded.claim_id`, createdAt: sql`excluded.created_at` },
        setWhere: and(
          eq(idempotencyKeys.status, "in_flight"),
          sql`${idempotencyKeys.requestHash} = excluded.request_hash`,
          olderThan(claim.abandonedAfterMs),
        ),
      })
      .returning({ claimId: idempotencyKeys.claimId });
    return claimed.length > 0;
  },

  async find(db: Executor, customerId: string, key: string): Promise<ExistingKey | undefined> {
    const [row] = await db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.customerId, customerId), eq(idempotencyKeys.key, key)));
    if (!row) return undefined;
    const response: StoredResponse | null =
      row.responseStatus === null ? null : { status: row.responseStatus, body: row.responseBody, orderId: row.orderId };
    return { requestHash: row.requestHash, status: row.status, response };
  },

  /**
   * Stores the answer and marks the key completed — call it in the transaction that stores the order,
   * so key, order and event commit together. False when the claim is no longer ours (taken over as
   * abandoned): the caller must then roll back, or the key would stand for two orders.
   */
  async complete(tx: Executor, claim: IdempotencyClaim, response: StoredResponse): Promise<boolean> {
    const updated = await tx
      .update(idempotencyKeys)
      .set({ status: "completed", responseStatus: response.status, responseBody: response.body, orderId: response.orderId })
      .where(and(isClaim(claim), eq(idempotencyKeys.status, "in_flight")))
      .returning({ key: idempotencyKeys.key });
    return updated.length > 0;
  },

  /** Gives the key up after a request that changed nothing failed, so a retry can run it again. */
  async release(db: Executor, claim: IdempotencyClaim): Promise<void> {
    await db.delete(idempotencyKeys).where(and(isClaim(claim), eq(idempotencyKeys.status, "in_flight")));
  },
};

export type IdempotencyKeyRepository = typeof idempotencyKeyRepository;
