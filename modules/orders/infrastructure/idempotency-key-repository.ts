import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../../../src/platform/db.ts";
import type { ExistingKey } from "../domain/idempotency-key.ts";
import type { Order } from "../domain/order.ts";
import type { IdempotencyClaim, IdempotencyKeyRepository } from "../ports.ts";
import { idempotencyKeys, orders } from "./schema.ts";

// Durations are compared on the database clock, so instances with skewed clocks agree on what is stale.
const olderThan = (ms: number) => sql`${idempotencyKeys.createdAt} < now() - ${ms} * interval '1 millisecond'`;
const isClaim = (claim: IdempotencyClaim) =>
  and(eq(idempotencyKeys.customerId, claim.customerId), eq(idempotencyKeys.key, claim.key), eq(idempotencyKeys.claimId, claim.claimId));

/** The `Idempotency-Key`s of POST /orders (orders.idempotency_keys). */
export const idempotencyKeyRepository: IdempotencyKeyRepository = {
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
      .select({ key: idempotencyKeys, customerEmail: orders.customerEmail })
      .from(idempotencyKeys)
      .leftJoin(orders, eq(orders.id, idempotencyKeys.orderId))
      .where(and(eq(idempotencyKeys.customerId, customerId), eq(idempotencyKeys.key, key)));
    if (!row) return undefined;
    const { requestHash, status, placedOrder, responseBody } = row.key;
    const order =
      placedOrder !== null ? orderFromJson(placedOrder as StoredOrder)
      : responseBody !== null && row.customerEmail !== null ? orderFromLegacyAnswer(responseBody as LegacyAnswer, row.customerEmail)
      : null;
    return { requestHash, status, placedOrder: order };
  },

  /**
   * Stores the order the request placed and marks the key completed — call it in the transaction that stores
   * the order, so key, order and event commit together. False when the claim is no longer ours (taken over as
   * abandoned): the caller must then roll back, or the key would stand for two orders.
   */
  async complete(tx: Executor, claim: IdempotencyClaim, placed: Order): Promise<boolean> {
    const updated = await tx
      .update(idempotencyKeys)
      .set({ status: "completed", placedOrder: placed, orderId: placed.id })
      .where(and(isClaim(claim), eq(idempotencyKeys.status, "in_flight")))
      .returning({ key: idempotencyKeys.key });
    return updated.length > 0;
  },

  /** Gives the key up after a request that changed nothing failed, so a retry can run it again. */
  async release(db: Executor, claim: IdempotencyClaim): Promise<void> {
    await db.delete(idempotencyKeys).where(and(isClaim(claim), eq(idempotencyKeys.status, "in_flight")));
  },
};


/** An Order as `placed_order` holds it: JSON, so its instants are ISO strings. */
type StoredOrder = Omit<Order, "createdAt" | "updatedAt" | "history"> & {
  createdAt: string;
  updatedAt: string;
  history: Array<{ status: Order["status"]; at: string; reason: string | null }>;
};

function orderFromJson(stored: StoredOrder): Order {
  return {
    ...stored,
    createdAt: new Date(stored.createdAt),
    updatedAt: new Date(stored.updatedAt),
    history: stored.history.map((change) => ({ ...change, at: new Date(change.at) })),
  };
}

/**
 * The 201 body that earlier versions stored (`response_body`): the order without its customer's e-mail (read
 * from the order), lines without their number (their position) and history reasons only where there was one.
 */
interface LegacyAnswer {
  id: string;
  status: Order["status"];
  statusReason: string | null;
  customerId: string;
  items: Array<{ sku: string; name: string; quantity: number; unitPriceCents: number; lineTotalCents: number }>;
  totalCents: number;
  currency: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  history: Array<{ status: Order["status"]; at: string; reason?: string }>;
}

function orderFromLegacyAnswer(answer: LegacyAnswer, customerEmail: string): Order {
  return {
    id: answer.id,
    customerId: answer.customerId,
    customerEmail,
    status: answer.status,
    statusReason: answer.statusReason,
    lines: answer.items.map((item, i) => ({ lineNo: i + 1, ...item })),
    totalCents: answer.totalCents,
    currency: answer.currency,
    version: answer.version,
    createdAt: new Date(answer.createdAt),
    updatedAt: new Date(answer.updatedAt),
    history: answer.history.map((change) => ({ status: change.status, at: new Date(change.at), reason: change.reason ?? null })),
  };
}
