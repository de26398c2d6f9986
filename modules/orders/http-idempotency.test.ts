import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { eventually } from "../../src/test-support/eventually.ts";
import { OrderPlaced } from "./contract.ts";
import { requestHash } from "./domain/idempotency-key.ts";
import { idempotencyKeys, orders, outbox } from "./infrastructure/schema.ts";
import { caller, json, lockWaiters, openOrders, product, request, type Caller, type OrdersHarness } from "./test-support/orders-harness.ts";

let h: OrdersHarness;

beforeAll(async () => {
  h = await openOrders("orders_http_idempotency");
});

afterAll(async () => {
  await h?.close();
});

const post = (as: Caller | undefined, body: unknown, key?: string) =>
  request(h, "POST", "/orders", { as, body, headers: key === undefined ? {} : { "idempotency-key": key } });

const ordersOf = (who: Caller) => h.database.db.select().from(orders).where(eq(orders.customerId, who.principal.sub));
const placedEventsOf = (who: Caller) =>
  h.database.db
    .select()
    .from(outbox)
    .where(sql`${outbox.name} = ${OrderPlaced.name} and ${outbox.envelope}->'data'->>'customerId' = ${who.principal.sub}`);

describe("POST /orders with an Idempotency-Key", () => {
  test("when the same key and body come again, then the first answer is replayed (status, body, Location) and only one order and one event exist", async () => {
    const alice = await caller();
    const [mug, tee] = [await product(h, 1299), await product(h, 2500)];
    const items = [
      { sku: mug, quantity: 2 },
      { sku: tee, quantity: 1 },
    ];

    const first = await post(alice, { items }, "checkout-7f3a");
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const firstBody = await json(first);

    // The same request, its JSON keys in another order: still the same request.
    const again = await post(alice, `{"items":[{"quantity":2,"sku":"${mug}"},{"quantity":1,"sku":"${tee}"}]}`, "checkout-7f3a");
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("location")).toBe(first.headers.get("location"));
    expect(again.headers.get("location")).toBe(`/orders/${firstBody.id}`);
    expect(await json(again)).toEqual(firstBody);

    expect(await ordersOf(alice)).toHaveLength(1);
    expect(await placedEventsOf(alice)).toHaveLength(1);
  });

  test("when the order moved on since, then the replay is still the answer of the first request", async () => {
    const alice = await caller();
    const items = [{ sku: await product(h), quantity: 1 }];
    const first = await json(await post(alice, { items }, "moved-on"));
    expect((await request(h, "POST", `/orders/${first.id}/cancel`, { as: alice })).status).toBe(200);

    const replay = await post(alice, { items }, "moved-on");
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await json(replay)).toMatchObject({ id: first.id, status: "pending", version: 1 });
  });

  test("when a key stored 23 hours ago by an earlier version (its HTTP answer, not the order) comes again, then that answer is replayed", async () => {
    const alice = await caller();
    const [mug, tee] = [await product(h, 1299), await product(h, 2500)];
    const items = [
      { sku: tee, quantity: 1 },
      { sku: mug, quantity: 3 },
    ];
    const placed = await post(alice, { items });
    const firstBody = await json(placed);
    expect((await request(h, "POST", `/orders/${firstBody.id}/cancel`, { as: alice, body: { reason: "too slow" } })).status).toBe(200);
    // The row as versions that stored the answer left it: status, body and order id, no placed order.
    await h.database.db.execute(sql`
      insert into orders.idempotency_keys (customer_id, key, request_hash, status, claim_id, response_status, response_body, order_id, created_at)
      values (${alice.principal.sub}, 'stored-before', ${requestHash({ items })}, 'completed', gen_random_uuid(), 201,
              ${JSON.stringify(firstBody)}::jsonb, ${firstBody.id}, now() - interval '23 hours')`);

    const replay = await post(alice, { items }, "stored-before");

    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("location")).toBe(`/orders/${firstBody.id}`);
    expect(await json(replay)).toEqual(firstBody);
    expect(firstBody).toMatchObject({ status: "pending", history: [{ status: "pending" }] });
    expect(await ordersOf(alice)).toHaveLength(1);
    expect(await placedEventsOf(alice)).toHaveLength(1);
  });

  test("when the same key comes with another body, then 422 ORDERS.IDEMPOTENCY_KEY_REUSED names the header and nothing is placed", async () => {
    const alice = await caller();
    const sku = await product(h);
    expect((await post(alice, { items: [{ sku, quantity: 1 }] }, "reused-key")).status).toBe(201);

    const res = await post(alice, { items: [{ sku, quantity: 2 }] }, "reused-key");

    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await json(res)).toMatchObject({
      code: "ORDERS.IDEMPOTENCY_KEY_REUSED",
      errors: [{ in: "headers", field: "/idempotency-key" }],
    });
    expect(await ordersOf(alice)).toHaveLength(1);
  });

  test("when the first request is still being processed, then the same request gets 409 ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT, and the replay once it finished", async () => {
    const alice = await caller();
    const items = [{ sku: await product(h), quantity: 1 }];
    // Hold the outbox: the first request claims its key, then waits inside its transaction for the event insert.
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

    const first = post(alice, { items }, "slow-checkout");
    await eventually(() => lockWaiters(h), { accept: (n) => n > 0, what: "the first request to block on the outbox" });
    const second = await post(alice, { items }, "slow-checkout");
    expect(second.status).toBe(409);
    expect(await json(second)).toMatchObject({ code: "ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT" });
    const otherBody = await post(alice, { items: [{ sku: items[0]!.sku, quantity: 5 }] }, "slow-checkout");
    expect(otherBody.status).toBe(422);

    release();
    await holding;
    const firstRes = await first;
    expect(firstRes.status).toBe(201);
    const third = await post(alice, { items }, "slow-checkout");
    expect(third.status).toBe(201);
    expect(third.headers.get("idempotent-replayed")).toBe("true");
    expect((await json(third)).id).toBe((await json(firstRes)).id);
    expect(await ordersOf(alice)).toHaveLength(1);
  });

  test("when a claim row is in flight, then 409; once it is older than 60 s it counts as abandoned and the request is placed", async () => {
    const alice = await caller();
    const items = [{ sku: await product(h), quantity: 1 }];
    await h.database.db.insert(idempotencyKeys).values({
      customerId: alice.principal.sub,
      key: "crashed-mid-request",
      requestHash: requestHash({ items }),
      status: "in_flight",
      claimId: Bun.randomUUIDv7(),
    });
    expect((await post(alice, { items }, "crashed-mid-request")).status).toBe(409);

    await h.database.db.execute(
      sql`update orders.idempotency_keys set created_at = now() - interval '61 seconds' where customer_id = ${alice.principal.sub}`,
    );
    const res = await post(alice, { items }, "crashed-mid-request");
    expect(res.status).toBe(201);
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    expect(await ordersOf(alice)).toHaveLength(1);
  });

  test("when two customers use the same key, then each gets their own order: keys are per customer", async () => {
    const [alice, bob] = [await caller(), await caller()];
    const items = [{ sku: await product(h), quantity: 1 }];
    const forAlice = await post(alice, { items }, "order-1");
    const forBob = await post(bob, { items }, "order-1");
    expect([forAlice.status, forBob.status]).toEqual([201, 201]);
    expect(forBob.headers.get("idempotent-replayed")).toBeNull();
    const [a, b] = [await json(forAlice), await json(forBob)];
    expect(a.id).not.toBe(b.id);
    expect(b.customerId).toBe(bob.principal.sub);
    expect(await ordersOf(alice)).toHaveLength(1);
    expect(await ordersOf(bob)).toHaveLength(1);
  });

  test("when the placement is refused, then the refusal is not remembered: the same key places the order once the sku exists", async () => {
    const alice = await caller();
    const sku = `SKU-LATE-${crypto.randomUUID().slice(0, 6)}`;
    const refused = await post(alice, { items: [{ sku, quantity: 1 }] }, "late-sku");
    expect(refused.status).toBe(422);
    expect(await json(refused)).toMatchObject({ code: "ORDERS.UNKNOWN_SKU", skus: [sku] });

    await h.database.db.execute(
      sql`insert into orders.catalog (sku, name, price_cents, currency, active, updated_at) values (${sku}, 'Late', 100, 'EUR', true, now())`,
    );
    const placed = await post(alice, { items: [{ sku, quantity: 1 }] }, "late-sku");
    expect(placed.status).toBe(201);
    expect(placed.headers.get("idempotent-replayed")).toBeNull();
  });

  test("when there is no key, then every request places an order", async () => {
    const alice = await caller();
    const items = [{ sku: await product(h), quantity: 1 }];
    expect((await post(alice, { items })).status).toBe(201);
    expect((await post(alice, { items })).status).toBe(201);
    expect(await ordersOf(alice)).toHaveLength(2);
  });

  test("when the key is empty, longer than 255 or not printable ASCII, then 422 names the header and nothing is placed", async () => {
    const alice = await caller();
    const items = [{ sku: await product(h), quantity: 1 }];
    for (const key of ["", "k".repeat(256), "tab\tinside", "caf\u00e9"]) {
      const res = await post(alice, { items }, key);
      expect({ key, status: res.status }).toEqual({ key, status: 422 });
      expect((await json(res)).errors).toContainEqual(expect.objectContaining({ in: "headers", field: "/idempotency-key" }));
    }
    expect(await ordersOf(alice)).toEqual([]);
    expect((await post(alice, { items }, "k".repeat(255))).status).toBe(201);
    expect((await post(alice, { items }, "~ printable ASCII, spaces too! ~")).status).toBe(201);
  });

  test("when there is no token, then 401 and no key is stored", async () => {
    const sku = await product(h);
    const res = await post(undefined, { items: [{ sku, quantity: 1 }] }, "anonymous");
    expect(res.status).toBe(401);
    expect(await h.database.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, "anonymous"))).toEqual([]);
  });
});
