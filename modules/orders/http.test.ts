import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../src/platform/db.ts";
import type { Principal } from "../../src/platform/http/principal.ts";
import { signToken } from "../../src/platform/http/shop-tokens.ts";
import { createHttpApp } from "../../src/platform/http/server.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTestDatabase, type TestDatabase } from "../../src/test-support/database.ts";
import { applyStatusChange } from "./application/apply-status-change.ts";
import { OrderPlaced } from "./contract.ts";
import { ordersModule } from "./index.ts";
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES } from "./domain/order-limits.ts";
import { catalogRepository } from "./infrastructure/catalog-repository.ts";
import { orderRepository } from "./infrastructure/order-repository.ts";
import { outbox } from "./infrastructure/schema.ts";
import { testModuleMetrics } from "../../src/test-support/metrics.ts";
import { createAuthenticator } from "../../src/platform/http/authenticator.ts";

const SECRET = "orders-http-test-secret-0123456789abcdef";
let testDb: TestDatabase;
let database: DatabaseHandle;
let app: { handle(request: Request): Promise<Response> };

beforeAll(async () => {
  testDb = await createTestDatabase("orders_http");
  database = openDatabase(testDb.url);
  const logger = createLogger("silent");
  const module = ordersModule.create({ database, logger, authenticator: createAuthenticator({ secret: SECRET }), metrics: testModuleMetrics("orders") });
  await migrateModule(database, module.name, module.migrationsFolder);
  app = createHttpApp({ logger, authenticator: createAuthenticator({ secret: SECRET }), readiness: {} }).use(module.routes!);
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const unique = () => crypto.randomUUID().slice(0, 8).toUpperCase();

interface Caller {
  principal: Principal;
  token: string;
}

async function caller(role: Principal["role"] = "customer"): Promise<Caller> {
  const sub = `${role}-${unique().toLowerCase()}`;
  const principal: Principal = { sub, email: `${sub}@example.com`, role };
  return { principal, token: await signToken(SECRET, principal) };
}

async function product(priceCents: number, currency = "EUR") {
  const sku = `SKU-${unique()}`;
  await catalogRepository.upsert(database.db, { sku, name: `Product ${sku}`, priceCents, currency, active: true }, new Date());
  return sku;
}

function request(method: string, path: string, options: { as?: Caller; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.as) headers.authorization = `Bearer ${options.as.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  return app.handle(
    new Request(`http://localhost${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) }),
  );
}

// Response bodies are checked by the assertions themselves.
const json = (res: Response): Promise<any> => res.json();

async function place(as: Caller, items: { sku: string; quantity: number }[]) {
  const res = await request("POST", "/orders", { as, body: { items } });
  expect(res.status).toBe(201);
  return (await json(res)) as { id: string; createdAt: string; status: string };
}

describe("POST /orders", () => {
  test("when a customer orders known skus, then 201 with Location and the priced pending order; the event carries the correlation id", async () => {
    const alice = await caller();
    const [mug, tee] = [await product(1299), await product(2500)];

    const res = await request("POST", "/orders", {
      as: alice,
      body: {
        items: [
          { sku: mug, quantity: 2 },
          { sku: tee, quantity: 1 },
        ],
      },
      headers: { "x-correlation-id": "checkout-42" },
    });

    expect(res.status).toBe(201);
    const body = await json(res);
    expect(res.headers.get("location")).toBe(`/orders/${body.id}`);
    expect(body).toEqual({
      id: expect.any(String),
      status: "pending",
      statusReason: null,
      customerId: alice.principal.sub,
      items: [
        { sku: mug, name: `Product ${mug}`, quantity: 2, unitPriceCents: 1299, lineTotalCents: 2598 },
        { sku: tee, name: `Product ${tee}`, quantity: 1, unitPriceCents: 2500, lineTotalCents: 2500 },
      ],
      totalCents: 5098,
      currency: "EUR",
      createdAt: expect.any(String),
      updatedAt: body.createdAt,
      version: 1,
      history: [{ status: "pending", at: body.createdAt }],
    });

    const [event] = await database.db.select().from(outbox).where(sql`${outbox.envelope}->'data'->>'orderId' = ${body.id}`);
    expect(event?.name).toBe(OrderPlaced.name);
    expect(event?.envelope.correlationId).toBe("checkout-42");
    expect(event?.envelope.data).toMatchObject({ customerEmail: alice.principal.email, totalCents: 5098 });

    const get = await request("GET", res.headers.get("location")!, { as: alice });
    expect(get.status).toBe(200);
    expect(await json(get)).toEqual(body);
  });

  test("when the client sends prices, then they are ignored: the catalog decides", async () => {
    const sku = await product(1000);
    const res = await request("POST", "/orders", { as: await caller(), body: { items: [{ sku, quantity: 1, unitPriceCents: 1 }], totalCents: 1 } });
    expect(res.status).toBe(201);
    expect((await json(res)).totalCents).toBe(1000);
  });

  test("when there is no token, then 401", async () => {
    const res = await request("POST", "/orders", { body: { items: [{ sku: "X", quantity: 1 }] } });
    expect(res.status).toBe(401);
    expect(await json(res)).toMatchObject({ code: "AUTH.REQUIRED" });
  });

  test("when a sku is unknown, then 422 ORDERS.UNKNOWN_SKU naming it, and no order is stored", async () => {
    const bob = await caller();
    const known = await product(100);
    const res = await request("POST", "/orders", {
      as: bob,
      body: {
        items: [
          { sku: known, quantity: 1 },
          { sku: "GHOST-1", quantity: 1 },
        ],
      },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await json(res)).toMatchObject({ status: 422, code: "ORDERS.UNKNOWN_SKU", skus: ["GHOST-1"] });
    expect(await orderRepository.list(database.db, { customerId: bob.principal.sub, limit: 10 })).toEqual([]);
  });

  test("when the items break the schema, then 422 names the field", async () => {
    const sku = await product(100);
    const cases: [unknown, string][] = [
      [{ items: [] }, "/items"],
      [{}, "/items"],
      [{ items: [{ sku, quantity: 0 }] }, "/items/0/quantity"],
      [{ items: [{ sku, quantity: MAX_LINE_QUANTITY + 1 }] }, "/items/0/quantity"],
      [{ items: [{ sku, quantity: 1.5 }] }, "/items/0/quantity"],
      [{ items: [{ sku: "", quantity: 1 }] }, "/items/0/sku"],
      [{ items: [{ sku: "x".repeat(65), quantity: 1 }] }, "/items/0/sku"],
      [{ items: Array.from({ length: MAX_ORDER_LINES + 1 }, (_, i) => ({ sku: `S-${i}`, quantity: 1 })) }, "/items"],
    ];
    const alice = await caller();
    for (const [body, field] of cases) {
      const res = await request("POST", "/orders", { as: alice, body });
      expect({ body, status: res.status }).toEqual({ body, status: 422 });
      const problem = await json(res);
      expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  test("when a sku is listed twice or currencies are mixed, then 422 with the rule's code", async () => {
    const [eur, usd] = [await product(100), await product(100, "USD")];
    const alice = await caller();
    const twice = await request("POST", "/orders", {
      as: alice,
      body: {
        items: [
          { sku: eur, quantity: 1 },
          { sku: eur, quantity: 1 },
        ],
      },
    });
    expect(twice.status).toBe(422);
    expect(await json(twice)).toMatchObject({ code: "ORDERS.DUPLICATE_SKU", skus: [eur] });
    const mixed = await request("POST", "/orders", {
      as: alice,
      body: {
        items: [
          { sku: eur, quantity: 1 },
          { sku: usd, quantity: 1 },
        ],
      },
    });
    expect(mixed.status).toBe(422);
    expect(await json(mixed)).toMatchObject({ code: "ORDERS.MIXED_CURRENCY" });
  });
});

describe("GET /orders/:id", () => {
  test("when the owner or an admin asks, then 200; another customer gets 404 as if it did not exist", async () => {
    const [alice, mallory, admin] = [await caller(), await caller(), await caller("admin")];
    const order = await place(alice, [{ sku: await product(100), quantity: 1 }]);

    expect((await request("GET", `/orders/${order.id}`, { as: alice })).status).toBe(200);
    const asAdmin = await request("GET", `/orders/${order.id}`, { as: admin });
    expect(asAdmin.status).toBe(200);
    expect((await json(asAdmin)).customerId).toBe(alice.principal.sub);

    const asOther = await request("GET", `/orders/${order.id}`, { as: mallory });
    expect(asOther.status).toBe(404);
    const missing = await request("GET", `/orders/${Bun.randomUUIDv7()}`, { as: mallory });
    expect(missing.status).toBe(404);
    const [otherBody, missingBody] = [await json(asOther), await json(missing)];
    expect(otherBody.code).toBe("ORDERS.NOT_FOUND");
    expect(missingBody.code).toBe("ORDERS.NOT_FOUND");
  });

  test("when the id is not a uuid, then 422 naming the param; without a token, 401", async () => {
    const res = await request("GET", "/orders/not-a-uuid", { as: await caller() });
    expect(res.status).toBe(422);
    expect((await json(res)).errors).toEqual([expect.objectContaining({ in: "params", field: "/id" })]);
    expect((await request("GET", `/orders/${Bun.randomUUIDv7()}`)).status).toBe(401);
  });

  test("when the order was rejected, then its status reason and history say why", async () => {
    const alice = await caller();
    const order = await place(alice, [{ sku: await product(100), quantity: 1 }]);
    await database.db.transaction((tx) =>
      applyStatusChange({ orders: orderRepository }, tx, { orderId: order.id, to: "rejected", reason: "insufficient stock: X" }),
    );
    const body = await json(await request("GET", `/orders/${order.id}`, { as: alice }));
    expect(body).toMatchObject({ status: "rejected", statusReason: "insufficient stock: X", version: 2 });
    expect(body.history).toEqual([
      { status: "pending", at: order.createdAt },
      { status: "rejected", at: expect.any(String), reason: "insufficient stock: X" },
    ]);
  });
});

describe("GET /orders", () => {
  type Page = { items: { id: string; status: string; createdAt: string; history?: unknown }[]; nextCursor: string | null };

  async function allPages(as: Caller, query: string) {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const res = await request("GET", `/orders?${query}${cursor ? `&cursor=${cursor}` : ""}`, { as });
      expect(res.status).toBe(200);
      const page = (await json(res)) as Page;
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 50);
    return pages;
  }

  const newestFirst = (a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) =>
    b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

  test("when a customer pages through their orders, then every order comes once, newest first, and nobody else's", async () => {
    const [carol, dave, admin] = [await caller(), await caller(), await caller("admin")];
    const sku = await product(100);
    const carols = [];
    for (let i = 0; i < 8; i++) carols.push(await place(carol, [{ sku, quantity: i + 1 }]));
    const daves = [await place(dave, [{ sku, quantity: 1 }])];
    // Confirm five of Carol's orders so a status filter has something to page through.
    for (const order of carols.slice(0, 5)) {
      await database.db.transaction((tx) => applyStatusChange({ orders: orderRepository }, tx, { orderId: order.id, to: "confirmed" }));
    }

    const pages = await allPages(carol, "limit=3");
    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 2]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    const listed = pages.flatMap((p) => p.items);
    expect(listed.map((o) => o.id)).toEqual([...carols].sort(newestFirst).map((o) => o.id));
    expect(listed.every((o) => o.history === undefined)).toBe(true);

    const confirmed = await allPages(carol, "status=confirmed&limit=2");
    expect(confirmed.map((p) => p.items.length)).toEqual([2, 2, 1]);
    const confirmedIds = confirmed.flatMap((p) => p.items.map((o) => o.id));
    expect(confirmedIds).toEqual(carols.slice(0, 5).sort(newestFirst).map((o) => o.id));
    expect(confirmed.flatMap((p) => p.items).every((o) => o.status === "confirmed")).toBe(true);

    const pending = await allPages(carol, "status=pending&limit=2");
    expect(pending.flatMap((p) => p.items.map((o) => o.id))).toEqual(carols.slice(5).sort(newestFirst).map((o) => o.id));

    // An admin sees everyone's orders (other tests' too): Carol's and Dave's are all there, once each.
    const everything = (await allPages(admin, "limit=4")).flatMap((p) => p.items.map((o) => o.id));
    expect(new Set(everything).size).toBe(everything.length);
    for (const order of [...carols, ...daves]) expect(everything).toContain(order.id);
  });

  test("when orders are placed while paging, then the pages already started neither repeat nor skip", async () => {
    const erin = await caller();
    const sku = await product(100);
    const before = [];
    for (let i = 0; i < 4; i++) before.push(await place(erin, [{ sku, quantity: 1 }]));
    const first = (await json(await request("GET", "/orders?limit=2", { as: erin }))) as Page;
    await place(erin, [{ sku, quantity: 1 }]);
    const second = (await json(await request("GET", `/orders?limit=2&cursor=${first.nextCursor}`, { as: erin }))) as Page;
    expect([...first.items, ...second.items].map((o) => o.id)).toEqual(before.sort(newestFirst).map((o) => o.id));
  });

  test("when no limit is given, then a page has at most 20 items", async () => {
    const frank = await caller();
    const sku = await product(100);
    for (let i = 0; i < 21; i++) await place(frank, [{ sku, quantity: 1 }]);
    const page = (await json(await request("GET", "/orders", { as: frank }))) as Page;
    expect(page.items).toHaveLength(20);
    expect(page.nextCursor).not.toBeNull();
  });

  test("when nobody signs in, then every orders route answers 401 before it looks at the input", async () => {
    const missing = Bun.randomUUIDv7();
    for (const [method, path, body] of [
      ["POST", "/orders", { items: [] }],
      ["GET", "/orders/not-a-uuid", undefined],
      ["GET", "/orders?limit=0&cursor=garbage!", undefined],
      ["POST", `/orders/${missing}/cancel`, 5],
      ["POST", "/orders/not-a-uuid/ship", undefined],
    ] as const) {
      const res = await request(method, path, { body });
      expect({ method, path, status: res.status, code: (await json(res)).code }).toEqual({ method, path, status: 401, code: "AUTH.REQUIRED" });
    }
  });

  test("when the query is bad, then 422", async () => {
    const alice = await caller();
    for (const query of ["limit=0", "limit=101", "limit=ten", "status=paid", "cursor=garbage!", `cursor=${Buffer.from("{}").toString("base64url")}`]) {
      const res = await request("GET", `/orders?${query}`, { as: alice });
      expect({ query, status: res.status }).toEqual({ query, status: 422 });
    }
    const res = await request("GET", `/orders?cursor=${Buffer.from('{"t":1}').toString("base64url")}`, { as: alice });
    expect(await json(res)).toMatchObject({ code: "ORDERS.INVALID_CURSOR", errors: [{ in: "query", field: "/cursor" }] });
    expect((await request("GET", "/orders")).status).toBe(401);
  });
});
