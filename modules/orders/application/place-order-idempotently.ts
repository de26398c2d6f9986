import { ConflictError, InvalidError } from "../../../src/platform/errors.ts";
import {
  IDEMPOTENCY_CLAIM_TIMEOUT_MS,
  IDEMPOTENCY_KEY_RETENTION_MS,
  judgeExistingKey,
  requestHash,
} from "../domain/idempotency-key.ts";
import type { Order } from "../domain/order.ts";
import type { IdempotencyClaim, OrdersDeps } from "../ports.ts";
import { placeOrder, type PlaceOrderInput } from "./place-order.ts";

export interface IdempotentPlaceOrderInput extends PlaceOrderInput {
  idempotencyKey: string;
}

export interface IdempotentPlacement {
  /** The order placed: now, or by an earlier request with the same key and body (as it was then). */
  order: Order;
  /** True when an earlier request with the same key and body placed it. */
  replayed: boolean;
}

// A claim can change hands between our claim attempt and our read (released after a failure); a few
// rounds settle it, more would mean a client hammering one key, which may as well hear "in flight".
const CLAIM_ROUNDS = 3;

/**
 * POST /orders with an `Idempotency-Key`, scoped to the customer. The key is first claimed `in_flight`
 * in a statement of its own, so a concurrent retry sees it at once and gets 409
 * `ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT`; the order, its event and the completed key (with the order) then
 * commit in one transaction. The same key and body later get that order again, as it was placed (`replayed`); the same
 * key with another body gets 422 `ORDERS.IDEMPOTENCY_KEY_REUSED`.
 * A placement that fails (a 4xx rule or a crash) stored nothing, so its claim is released and a retry
 * runs afresh; a claim left behind by a dead process is taken over after IDEMPOTENCY_CLAIM_TIMEOUT_MS.
 */
export async function placeOrderIdempotently(deps: OrdersDeps, input: IdempotentPlaceOrderInput): Promise<IdempotentPlacement> {
  const claim: IdempotencyClaim = { customerId: input.customer.id, key: input.idempotencyKey, claimId: Bun.randomUUIDv7() };
  // Only what the use case reads goes into the hash: fields the schema dropped cannot make two requests differ.
  const hash = requestHash({ items: input.items.map(({ sku, quantity }) => ({ sku, quantity })) });
  await deps.idempotencyKeys.deleteExpired(deps.db, claim.customerId, IDEMPOTENCY_KEY_RETENTION_MS);

  for (let round = 1; round <= CLAIM_ROUNDS; round++) {
    if (await deps.idempotencyKeys.claim(deps.db, { ...claim, requestHash: hash, abandonedAfterMs: IDEMPOTENCY_CLAIM_TIMEOUT_MS })) {
      return { order: await placeUnderClaim(deps, input, claim), replayed: false };
    }
    const existing = await deps.idempotencyKeys.find(deps.db, claim.customerId, claim.key);
    if (!existing) continue;
    const verdict = judgeExistingKey(existing, hash);
    if (verdict.kind === "replay") return { order: verdict.order, replayed: true };
    if (verdict.kind === "reused") throw keyReused();
    throw keyInFlight();
  }
  throw keyInFlight();
}

async function placeUnderClaim(deps: OrdersDeps, input: IdempotentPlaceOrderInput, claim: IdempotencyClaim): Promise<Order> {
  try {
    return await placeOrder(deps, input, async (tx, placed) => {
      // Our claim was taken over as abandoned: the other request owns the key, this order must not exist.
      if (!(await deps.idempotencyKeys.complete(tx, claim, placed))) throw keyInFlight();
    });
  } catch (error) {
    // Conditional on our claim id: a key another request took over is left alone.
    await deps.idempotencyKeys.release(deps.db, claim).catch((releaseError: unknown) => {
      deps.logger.warn({ err: releaseError, key: claim.key }, "could not release an idempotency key; it frees itself when the claim times out");
    });
    throw error;
  }
}

function keyInFlight(): ConflictError {
  return new ConflictError(
    "ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT",
    "A request with this Idempotency-Key is still being processed; retry later to get its answer.",
  );
}

function keyReused(): InvalidError {
  return new InvalidError(
    "ORDERS.IDEMPOTENCY_KEY_REUSED",
    "This Idempotency-Key was already used for a different request; use a new key for a new order.",
    { errors: [{ in: "headers", field: "/idempotency-key", message: "Already used with a different request body" }] },
  );
}
