import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { StockRejected, StockReserved } from "../inventory/contract.ts";
import { eventually } from "../../src/test-support/eventually.ts";
import { caller, deliver, json, lockWaiters, openOrders, place, product, request, type Caller, type OrdersHarness } from "./test-support/orders-harness.ts";

// POST /orders under its two limits: the per-customer rate (its clock advanced by the test) and the cap on units
// of a sku a customer holds in open orders. Each on a module instance of its own, so one never trips the other.

const PER_MINUTE = 3;
const CAP = 5;
let clock = 1_000_000;
let rated: OrdersHarness;
let capped: OrdersHarness;

beforeAll(async () => {
  rated = await openOrders("orders_rate_limit", { placeRateLimit: { perMinute: PER_MINUTE, now: () => clock } });
  capped = await openOrders("orders_open_units", { maxOpenUnitsPerSku: CAP });
});

afterAll(async () => {
  await rated?.close();
  await capped?.close();
});

async function ordersOf(h: OrdersHarness, customer: Caller): Promise<number> {
  const [row] = await h.database.sql`select count(*)::int as n from orders.orders where customer_id = ${customer.principal.sub}`;
  return row!.n as number;
}

describe("rate limit per customer on POST /orders", () => {
  test("when a customer places more orders a minute than allowed, then 429 problem+json with Retry-After; nothing is stored", async () => {
    const alice = await caller();
    const sku = await product(rated);
    for (let i = 0; i < PER_MINUTE; i++) await place(rated, alice, [{ sku, quantity: 1 }]);

    const res = await request(rated, "POST", "/orders", { as: alice, body: { items: [{ sku, quantity: 1 }] } });

    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    // 3 a minute: a token every 20 s.
    expect(res.headers.get("retry-after")).toBe("20");
    expect(await json(res)).toMatchObject({ status: 429, code: "RATE_LIMITED", retryAfterSeconds: 20, instance: "/orders" });
    expect(await ordersOf(rated, alice)).toBe(PER_MINUTE);
  });

  test("when a customer is over the limit, then another customer still places orders, and the first passes again once Retry-After has passed", async () => {
    const [carol, dave] = [await caller(), await caller()];
    const sku = await product(rated);
    for (let i = 0; i < PER_MINUTE; i++) await place(rated, carol, [{ sku, quantity: 1 }]);
    const refused = await request(rated, "POST", "/orders", { as: carol, body: { items: [{ sku, quantity: 1 }] } });
    expect(refused.status).toBe(429);

    await place(rated, dave, [{ sku, quantity: 1 }]);

    clock += Number(refused.headers.get("retry-after")) * 1000 - 1;
    expect((await request(rated, "POST", "/orders", { as: carol, body: { items: [{ sku, quantity: 1 }] } })).status).toBe(429);
    clock += 1;
    await place(rated, carol, [{ sku, quantity: 1 }]);
  });

  test("when a customer over the limit sends an invalid body, then 429 (the limit is checked before validation); without a token 401", async () => {
    const erin = await caller();
    const sku = await product(rated);
    for (let i = 0; i < PER_MINUTE; i++) await place(rated, erin, [{ sku, quantity: 1 }]);

    expect((await request(rated, "POST", "/orders", { as: erin, body: { items: "nope" } })).status).toBe(429);
    expect((await request(rated, "POST", "/orders", { body: { items: [{ sku, quantity: 1 }] } })).status).toBe(401);
  });

  test("when a customer is over the limit, then reading orders is not limited", async () => {
    const frank = await caller();
    const sku = await product(rated);
    for (let i = 0; i < PER_MINUTE; i++) await place(rated, frank, [{ sku, quantity: 1 }]);
    expect((await request(rated, "POST", "/orders", { as: frank, body: { items: [{ sku, quantity: 1 }] } })).status).toBe(429);

    const list = await request(rated, "GET", "/orders", { as: frank });
    expect(list.status).toBe(200);
    expect((await json(list)).items).toHaveLength(PER_MINUTE);
  });
});

describe("cap on units of a sku in a customer's open orders", () => {
  test("when an order would take the customer over the cap, then 422 ORDERS.OPEN_UNITS_LIMIT naming the skus, the limit and what is held; nothing stored", async () => {
    const alice = await caller();
    const [mug, tee] = [await product(capped), await product(capped)];
    await place(capped, alice, [{ sku: mug, quantity: 3 }, { sku: tee, quantity: 1 }]);

    const res = await request(capped, "POST", "/orders", { as: alice, body: { items: [{ sku: tee, quantity: 1 }, { sku: mug, quantity: 3 }] } });

    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await json(res)).toMatchObject({
      status: 422,
      code: "ORDERS.OPEN_UNITS_LIMIT",
      limit: CAP,
      skus: [{ sku: mug, held: 3, requested: 3 }],
      errors: [{ in: "body", field: "/items/1/quantity", message: "At most 2 more (3 held in open orders)" }],
    });
    expect(await ordersOf(capped, alice)).toBe(1);
    // Up to the cap is fine; other customers hold their own units.
    await place(capped, alice, [{ sku: mug, quantity: 2 }]);
    await place(capped, await caller(), [{ sku: mug, quantity: CAP }]);
  });

  test("when the customer cancels an order, or inventory rejects it, then its units are free again", async () => {
    const bob = await caller();
    const sku = await product(capped);
    const first = await place(capped, bob, [{ sku, quantity: 3 }]);
    const second = await place(capped, bob, [{ sku, quantity: 2 }]);
    expect((await request(capped, "POST", "/orders", { as: bob, body: { items: [{ sku, quantity: 1 }] } })).status).toBe(422);

    expect((await request(capped, "POST", `/orders/${first.id}/cancel`, { as: bob })).status).toBe(200);
    await place(capped, bob, [{ sku, quantity: 3 }]);
    expect((await request(capped, "POST", "/orders", { as: bob, body: { items: [{ sku, quantity: 2 }] } })).status).toBe(422);

    await deliver(capped, StockRejected, { orderId: second.id, shortages: [{ sku, requested: 2, available: 0 }] });
    await place(capped, bob, [{ sku, quantity: 2 }]);
  });

  test("when a keyed order is replayed after the customer reached the cap, then the replay answers 201 again", async () => {
    const carol = await caller();
    const sku = await product(capped);
    const key = { "idempotency-key": `cap-${crypto.randomUUID()}` };
    const first = await request(capped, "POST", "/orders", { as: carol, body: { items: [{ sku, quantity: 3 }] }, headers: key });
    expect(first.status).toBe(201);
    await place(capped, carol, [{ sku, quantity: 2 }]);

    const replay = await request(capped, "POST", "/orders", { as: carol, body: { items: [{ sku, quantity: 3 }] }, headers: key });

    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await json(replay)).id).toBe((await json(first)).id);
    expect(await ordersOf(capped, carol)).toBe(2);
  });

  test("when a customer places many orders at once, then together they never go over the cap", async () => {
    const dave = await caller();
    const sku = await product(capped);
    const keyed = (i: number) => (i % 2 === 0 ? { "idempotency-key": `race-${i}-${crypto.randomUUID()}` } : undefined);

    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => request(capped, "POST", "/orders", { as: dave, body: { items: [{ sku, quantity: 1 }] }, headers: keyed(i) })),
    );

    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([...Array(CAP).fill(201), ...Array(12 - CAP).fill(422)]);
    const [row] = await capped.database.db.execute<{ units: number }>(
      sql`select coalesce(sum(i.quantity), 0)::int as units from orders.orders o join orders.order_items i on i.order_id = o.id
          where o.customer_id = ${dave.principal.sub} and i.sku = ${sku}`,
    );
    expect(row!.units).toBe(CAP);
  });

  test("when an order is shipped, then its units are free again: they left the shop", async () => {
    const erin = await caller();
    const sku = await product(capped);
    const order = await place(capped, erin, [{ sku, quantity: CAP }]);
    await deliver(capped, StockReserved, { orderId: order.id, items: [{ sku, quantity: CAP }] });
    expect((await request(capped, "POST", "/orders", { as: erin, body: { items: [{ sku, quantity: 1 }] } })).status).toBe(422);

    expect((await request(capped, "POST", `/orders/${order.id}/ship`, { as: await caller("admin") })).status).toBe(200);

    await place(capped, erin, [{ sku, quantity: CAP }]);
  });

  test("when a customer places orders of the same two skus at once, in either order, then none deadlocks and together they stay within the cap", async () => {
    const frank = await caller();
    const [a, b] = [await product(capped), await product(capped)];
    const lines = (i: number) => (i % 2 === 0 ? [{ sku: a, quantity: 1 }, { sku: b, quantity: 1 }] : [{ sku: b, quantity: 1 }, { sku: a, quantity: 1 }]);

    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => request(capped, "POST", "/orders", { as: frank, body: { items: lines(i) } })));

    expect(answers.map((res) => res.status).sort()).toEqual([...Array(CAP).fill(201), ...Array(12 - CAP).fill(422)]);
  });

  test("when a placement loses a deadlock on the customer's counts, then it is run again and answers 201", async () => {
    const ivan = await caller();
    // A placement takes its counts in sku order: a's, then b's.
    const [a, b] = [await product(capped), await product(capped)].sort() as [string, string];
    await place(capped, ivan, [{ sku: a, quantity: 1 }, { sku: b, quantity: 1 }]);
    const lines = [{ sku: a, quantity: 1 }, { sku: b, quantity: 1 }];

    // Another transaction holds b's count; the placement locks a's, then waits for b's; taking a's then closes the
    // cycle. The placement, waiting the longer, is the one PostgreSQL aborts (after deadlock_timeout, 1 s).
    let placing: Promise<Response> | undefined;
    await capped.database.sql.begin(async (tx) => {
      await tx`update orders.open_units set units = units where customer_id = ${ivan.principal.sub} and sku = ${b}`;
      placing = request(capped, "POST", "/orders", { as: ivan, body: { items: lines } });
      await eventually(() => lockWaiters(capped), { what: "the placement to wait for b's count" });
      await tx`update orders.open_units set units = units where customer_id = ${ivan.principal.sub} and sku = ${a}`;
    });

    const res = await placing!;
    expect(res.status).toBe(201);
    expect(await ordersOf(capped, ivan)).toBe(2);
  });

  test("shop check finds the counted units equal to the open orders' after all of the above, and names a count that drifted", async () => {
    const check = () => capped.module.check!({ settleMs: 60_000 });
    const drift = async () => (await check()).find((c) => c.name.includes("units counted"))!.violations;
    expect(await drift()).toEqual([]);

    const grace = await caller();
    const sku = await product(capped);
    await place(capped, grace, [{ sku, quantity: 2 }]);
    await capped.database.sql`update orders.open_units set units = 1 where customer_id = ${grace.principal.sub}`;

    expect(await drift()).toEqual([`customer ${grace.principal.sub} holds 2 of ${sku} in open orders, counted 1`]);
    await capped.database.sql`update orders.open_units set units = 2 where customer_id = ${grace.principal.sub}`;
    expect(await drift()).toEqual([]);
  });
});
