import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq, sql } from "drizzle-orm";
import { ConflictError, InvalidError } from "../../../src/platform/errors.ts";
import { createLogger } from "../../../src/platform/logger.ts";
import { createOutbox, type Outbox } from "../../../src/platform/messaging/outbox.ts";
import { eventually } from "../../../src/test-support/eventually.ts";
import { OrderPlaced } from "../contract.ts";
import { requestHash } from "../domain/idempotency-key.ts";
import { catalogRepository } from "../infrastructure/catalog-repository.ts";
import { idempotencyKeyRepository } from "../infrastructure/idempotency-key-repository.ts";
import { orderRepository } from "../infrastructure/order-repository.ts";
import { idempotencyKeys, orders, outbox } from "../infrastructure/schema.ts";
import { eventsFor, lockWaiters, openOrders, product, unique, type OrdersHarness } from "../test-support/orders-harness.ts";
import type { OrdersDeps } from "../ports.ts";
import { placeOrderIdempotently } from "./place-order-idempotently.ts";
import { ordersMetrics } from "../infrastructure/orders-metrics.ts";
import { testModuleMetrics } from "../../../src/test-support/metrics.ts";

let h: OrdersHarness;
let deps: OrdersDeps;

beforeAll(async () => {
  h = await openOrders("orders_idempotency");
  deps = {
    db: h.database.db,
    orders: orderRepository,
    catalog: catalogRepository,
    idempotencyKeys: idempotencyKeyRepository,
    outbox: createOutbox(outbox, "orders"),
    logger: createLogger("silent"),
    metrics: ordersMetrics(testModuleMetrics("orders")),
  };
});

afterAll(async () => {
  await h?.close();
});

function customer() {
  const id = `customer-${unique().toLowerCase()}`;
  return { id, email: `${id}@example.com` };
}


function input(buyer: { id: string; email: string }, key: string, items: { sku: string; quantity: number }[]) {
  return { customer: buyer, items, correlationId: `corr-${unique()}`, idempotencyKey: key };
}

const ordersOf = (customerId: string) => h.database.db.select().from(orders).where(eq(orders.customerId, customerId));
const keyRow = async (customerId: string, key: string) =>
  (await h.database.db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.customerId, customerId), eq(idempotencyKeys.key, key))))[0];
const codeOf = (error: unknown) => (error as { code?: string }).code;

/**
 * Holds an EXCLUSIVE lock on orders.outbox until release(): every placement then blocks on its event
 * insert, inside its transaction, after its key was claimed. (Not orders.orders: the claim's foreign key
 * check would block on that one before the claim is made.)
 */
async function holdOutboxTable() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holding = h.database.sql.begin(async (tx) => {
    await tx`lock table orders.outbox in exclusive mode`;
    locked();
    await released;
  });
  await isLocked;
  return {
    release: async () => {
      release();
      await holding;
    },
  };
}

describe("placeOrderIdempotently", () => {
  test("when a request succeeds, then the key is completed with the order it placed, in the order's transaction", async () => {
    const buyer = customer();
    const sku = await product(h, 300);
    const first = await placeOrderIdempotently(deps, input(buyer, "k-1", [{ sku, quantity: 2 }]));
    expect(first.replayed).toBe(false);
    const row = await keyRow(buyer.id, "k-1");
    expect(row).toMatchObject({
      status: "completed",
      responseStatus: null,
      responseBody: null,
      placedOrder: JSON.parse(JSON.stringify(first.order)),
      orderId: first.order.id,
      requestHash: requestHash({ items: [{ sku, quantity: 2 }] }),
    });

    const again = await placeOrderIdempotently(deps, input(buyer, "k-1", [{ quantity: 2, sku }]));
    expect(again).toEqual({ replayed: true, order: first.order });
    expect(await ordersOf(buyer.id)).toHaveLength(1);
  });

  test("when the placement crashes after writing, then nothing is kept, the claim is released, and a retry with the key places the order once", async () => {
    const buyer = customer();
    const sku = await product(h);
    // The order's write (in the statement that also writes its event) crashes.
    const crashingOrders = {
      ...deps.orders,
      insertWrites: () => ({ ctes: "new_order as (insert into orders.orders (id) values ($1) returning id)", params: [Bun.randomUUIDv7()] }),
    };
    await expect(placeOrderIdempotently({ ...deps, orders: crashingOrders }, input(buyer, "k-crash", [{ sku, quantity: 1 }]))).rejects.toThrow(
      "null value",
    );
    expect(await keyRow(buyer.id, "k-crash")).toBeUndefined();
    expect(await ordersOf(buyer.id)).toEqual([]);

    const retry = await placeOrderIdempotently(deps, input(buyer, "k-crash", [{ sku, quantity: 1 }]));
    expect(retry.replayed).toBe(false);
    expect(await ordersOf(buyer.id)).toHaveLength(1);
    expect(await eventsFor(h, retry.order.id, OrderPlaced.name)).toHaveLength(1);
  });

  test("when the placement is refused (unknown sku), then the key is released: the same key works once the catalog knows the sku", async () => {
    const buyer = customer();
    const sku = `SKU-${unique()}`;
    const refused = await placeOrderIdempotently(deps, input(buyer, "k-late-sku", [{ sku, quantity: 1 }])).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidError);
    expect(codeOf(refused)).toBe("ORDERS.UNKNOWN_SKU");
    expect(await keyRow(buyer.id, "k-late-sku")).toBeUndefined();

    await catalogRepository.upsert(h.database.db, { sku, name: "Late", priceCents: 100, currency: "EUR", active: true }, new Date());
    const placed = await placeOrderIdempotently(deps, input(buyer, "k-late-sku", [{ sku, quantity: 1 }]));
    expect(placed.replayed).toBe(false);
    expect(await ordersOf(buyer.id)).toHaveLength(1);
  });

  test("when a claim is in flight, then the same request gets IN_FLIGHT, another request REUSED, and an abandoned claim is taken over", async () => {
    const buyer = customer();
    const sku = await product(h);
    const items = [{ sku, quantity: 1 }];
    await h.database.db.insert(idempotencyKeys).values({
      customerId: buyer.id,
      key: "k-held",
      requestHash: requestHash({ items }),
      status: "in_flight",
      claimId: Bun.randomUUIDv7(),
    });

    expect(codeOf(await placeOrderIdempotently(deps, input(buyer, "k-held", items)).catch((e: unknown) => e))).toBe("ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT");
    expect(codeOf(await placeOrderIdempotently(deps, input(buyer, "k-held", [{ sku, quantity: 2 }])).catch((e: unknown) => e))).toBe(
      "ORDERS.IDEMPOTENCY_KEY_REUSED",
    );

    // 61 s later the claimant is presumed dead: a retry of the same request takes the key over; another request still may not.
    await h.database.db.execute(sql`update orders.idempotency_keys set created_at = now() - interval '61 seconds' where customer_id = ${buyer.id}`);
    expect(codeOf(await placeOrderIdempotently(deps, input(buyer, "k-held", [{ sku, quantity: 2 }])).catch((e: unknown) => e))).toBe(
      "ORDERS.IDEMPOTENCY_KEY_REUSED",
    );
    const taken = await placeOrderIdempotently(deps, input(buyer, "k-held", items));
    expect(taken.replayed).toBe(false);
    expect(await keyRow(buyer.id, "k-held")).toMatchObject({ status: "completed", orderId: taken.order.id });
    expect(await ordersOf(buyer.id)).toHaveLength(1);
  });

  test("when a slow request's claim was taken over, then its own order is rolled back: the key stands for exactly one order", async () => {
    const buyer = customer();
    const sku = await product(h);
    const items = [{ sku, quantity: 1 }];
    const lock = await holdOutboxTable();
    // The slow request claims the key, then blocks on its event insert.
    const slow = placeOrderIdempotently(deps, input(buyer, "k-slow", items)).catch((e: unknown) => e);
    await eventually(() => lockWaiters(h), { accept: (n) => n >= 1, what: "the slow request to block" });
    await h.database.db.execute(sql`update orders.idempotency_keys set created_at = now() - interval '61 seconds' where customer_id = ${buyer.id}`);
    const retry = placeOrderIdempotently(deps, input(buyer, "k-slow", items));
    await eventually(() => lockWaiters(h), { accept: (n) => n >= 2, what: "the retry to take the key over and block too" });
    await lock.release();

    const [slowOutcome, retried] = await Promise.all([slow, retry]);
    expect(slowOutcome).toBeInstanceOf(ConflictError);
    expect(codeOf(slowOutcome)).toBe("ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT");
    expect(retried.replayed).toBe(false);
    const placed = await ordersOf(buyer.id);
    expect(placed.map((order) => order.id)).toEqual([retried.order.id]);
    expect(await keyRow(buyer.id, "k-slow")).toMatchObject({ status: "completed", orderId: retried.order.id });
    const placedEvents = await h.database.db
      .select()
      .from(outbox)
      .where(sql`${outbox.name} = ${OrderPlaced.name} and ${outbox.envelope}->'data'->>'customerId' = ${buyer.id}`);
    expect(placedEvents).toHaveLength(1);
  });

  test("when the same request is sent 8 times at once, then one order is placed and every other answer is IN_FLIGHT or the replay", async () => {
    const buyer = customer();
    const sku = await product(h);
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => placeOrderIdempotently(deps, input(buyer, "k-burst", [{ sku, quantity: 1 }]))));
    const placed = await ordersOf(buyer.id);
    expect(placed).toHaveLength(1);
    const fresh = outcomes.filter((o) => o.status === "fulfilled" && !o.value.replayed);
    expect(fresh).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") expect(outcome.value.order.id).toBe(placed[0]!.id);
      else expect(codeOf(outcome.reason)).toBe("ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT");
    }
  });

  test("when a customer's keys are older than 24 h, then their next keyed request forgets them; other customers' keys are left alone", async () => {
    const [alice, bob] = [customer(), customer()];
    const sku = await product(h);
    const aliceFirst = await placeOrderIdempotently(deps, input(alice, "k-old", [{ sku, quantity: 1 }]));
    await placeOrderIdempotently(deps, input(bob, "k-old", [{ sku, quantity: 1 }]));
    await h.database.db.execute(sql`update orders.idempotency_keys set created_at = now() - interval '25 hours' where key = 'k-old'`);

    // Alice's expired key is deleted first, so the same key now places a new order (even with another body).
    const aliceAgain = await placeOrderIdempotently(deps, input(alice, "k-old", [{ sku, quantity: 3 }]));
    expect(aliceAgain.replayed).toBe(false);
    expect(aliceAgain.order.id).not.toBe(aliceFirst.order.id);
    expect(await ordersOf(alice.id)).toHaveLength(2);
    expect(await keyRow(bob.id, "k-old")).toMatchObject({ status: "completed" });
  });
});
