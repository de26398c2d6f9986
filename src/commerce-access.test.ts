import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { commerce, json, newCustomer, newSku, type OrderView, type Problem, type ProductView } from "./test-support/commerce.ts";
import { admin, alice, bob, startTestShop, type TestShop } from "./test-support/shop.ts";

// Who may do what, stock corrections, and paging through orders and the catalog — over HTTP, with orders
// that really went through inventory.
let shop: TestShop;
let c: ReturnType<typeof commerce>;

beforeAll(async () => {
  shop = await startTestShop("commerce_access");
  c = commerce(shop);
});
afterAll(async () => {
  await shop?.close();
});

const sku = () => newSku("ACCESS");

describe("who may see and change an order", () => {
  test("when a customer reads or cancels another customer's order, then it is 404 as if it did not exist, and the order is untouched", async () => {
    const s = sku();
    await c.createProduct(s, 5);
    const order = await c.confirmedOrder(alice, [{ sku: s, quantity: 1 }]);

    const read = await shop.request(`/orders/${order.id}`, { as: bob });
    const cancel = await c.cancel(order.id, bob);

    expect([read.status, cancel.status]).toEqual([404, 404]);
    for (const res of [read, cancel]) expect(await json<Problem>(res)).toMatchObject({ code: "ORDERS.NOT_FOUND" });
    expect((await c.order(order.id, alice)).status).toBe("confirmed");
    expect((await c.order(order.id, admin)).status).toBe("confirmed");
    expect(await c.product(s)).toMatchObject({ reserved: 1 });
  });

  test("when a customer calls an admin route, then it is 403 and nothing changes", async () => {
    const s = sku();
    await c.createProduct(s, 5, 900);
    const order = await c.confirmedOrder(alice, [{ sku: s, quantity: 2 }]);

    const attempts = [
      shop.request(`/products/${s}`, { method: "PUT", as: alice, json: { name: "Mine now", priceCents: 1 } }),
      shop.request(`/products/${sku()}`, { method: "PUT", as: alice, json: { name: "New", priceCents: 1, stock: 5 } }),
      shop.request(`/products/${s}/stock`, { method: "POST", as: alice, json: { delta: 100 } }),
      c.ship(order.id, alice),
      shop.request(`/notifications?orderId=${order.id}`, { as: alice }),
      shop.request(`/notifications`, { as: alice }),
    ];

    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    expect(await c.product(s)).toMatchObject({ name: `Product ${s}`, priceCents: 900, onHand: 5, reserved: 2 });
    expect((await c.order(order.id)).status).toBe("confirmed");
  });

  test("when a request carries no token, then every route but the catalog answers 401", async () => {
    const s = sku();
    await c.createProduct(s, 5);
    const order = await c.placeOk(alice, [{ sku: s, quantity: 1 }]);

    const anonymous = [
      shop.request("/orders", { method: "POST", json: { items: [{ sku: s, quantity: 1 }] } }),
      shop.request("/orders"),
      shop.request(`/orders/${order.id}`),
      shop.request(`/orders/${order.id}/cancel`, { method: "POST" }),
      shop.request(`/orders/${order.id}/ship`, { method: "POST" }),
      shop.request(`/products/${s}`, { method: "PUT", json: { name: "x", priceCents: 1 } }),
      shop.request(`/products/${s}/stock`, { method: "POST", json: { delta: 1 } }),
      shop.request("/notifications"),
    ];

    for (const res of await Promise.all(anonymous)) expect(res.status).toBe(401);
    expect((await shop.request("/products")).status).toBe(200);
    expect((await shop.request(`/products/${s}`)).status).toBe(200);
    expect((await c.orderPages(alice)).flat().filter((o) => o.items[0]?.sku === s)).toHaveLength(1);
  });
});

describe("adjusting stock", () => {
  test("when an admin removes more stock than is free, then it is 409 and nothing changes; down to exactly what is reserved is allowed", async () => {
    const s = sku();
    await c.createProduct(s, 10);
    await c.confirmedOrder(alice, [{ sku: s, quantity: 4 }]);
    const before = await c.product(s);
    expect(before).toMatchObject({ onHand: 10, reserved: 4, available: 6 });

    const tooMuch = await shop.request(`/products/${s}/stock`, { method: "POST", as: admin, json: { delta: -7 } });

    expect(tooMuch.status).toBe(409);
    expect(await c.product(s)).toEqual(before);
    const exact = await shop.request(`/products/${s}/stock`, { method: "POST", as: admin, json: { delta: -6 } });
    expect(exact.status).toBe(200);
    expect(await json<ProductView>(exact)).toMatchObject({ onHand: 4, reserved: 4, available: 0 });
    // Nothing is free any more: the next order is rejected.
    await c.orderEventually((await c.placeOk(bob, [{ sku: s, quantity: 1 }])).id, "rejected");
  });
});

describe("paging", () => {
  test("when a customer with 7 orders pages by 3, then 3 pages hold exactly their orders, newest first, without gaps or overlaps", async () => {
    const gina = newCustomer("pager");
    const s = sku();
    await c.createProduct(s, 100);
    await c.placeOk(newCustomer("other"), [{ sku: s, quantity: 1 }]);
    const placed: string[] = [];
    for (let i = 0; i < 7; i++) placed.push((await c.placeOk(gina, [{ sku: s, quantity: 1 }])).id);

    const pages = await c.orderPages(gina, { limit: "3" });

    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((o) => o.id)).toEqual(placed.reverse());
    expect(pages.flat().every((o) => o.customerId === gina.sub)).toBe(true);
  });

  test("when an admin lists orders, then other customers' orders are there too, and a status filter keeps only that status", async () => {
    const [hank, ivy] = [newCustomer("pager"), newCustomer("pager")];
    const s = sku();
    await c.createProduct(s, 100);
    const hanks = [await c.confirmedOrder(hank, [{ sku: s, quantity: 1 }]), await c.confirmedOrder(hank, [{ sku: s, quantity: 1 }])];
    const ivys = [await c.confirmedOrder(ivy, [{ sku: s, quantity: 1 }]), await c.confirmedOrder(ivy, [{ sku: s, quantity: 1 }])];
    expect((await c.cancel(hanks[0]!.id, hank)).status).toBe(200);

    const all = (await c.orderPages(admin, { limit: "5" })).flat();
    const cancelled = (await c.orderPages(admin, { limit: "5", status: "cancelled" })).flat();
    const hanksConfirmed = (await c.orderPages(hank, { status: "confirmed" })).flat();

    const ids = all.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const order of [...hanks, ...ivys]) expect(ids).toContain(order.id);
    expect(cancelled.every((o) => o.status === "cancelled")).toBe(true);
    expect(cancelled.map((o) => o.id)).toContain(hanks[0]!.id);
    expect(cancelled.map((o) => o.id)).not.toContain(hanks[1]!.id);
    expect(hanksConfirmed.map((o) => o.id)).toEqual([hanks[1]!.id]);
  });

  test("when anyone pages through the catalog, then every active product appears once, in sku order, the new ones included and the inactive one left out", async () => {
    const prefix = `CAT-${crypto.randomUUID().slice(0, 6)}`;
    const mine = Array.from({ length: 7 }, (_, i) => `${prefix}-${i}`);
    for (const [stock, s] of mine.entries()) await c.createProduct(s, stock);
    const retired = `${prefix}-retired`;
    await c.createProduct(retired, 1);
    const off = await shop.request(`/products/${retired}`, { method: "PUT", as: admin, json: { name: "Retired", priceCents: 1, active: false } });
    expect(off.status).toBe(200);

    const skus: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await shop.request(`/products?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      const page: { items: Array<{ sku: string; available: number }>; nextCursor: string | null } = await json(res);
      expect(page.items.length).toBeLessThanOrEqual(3);
      skus.push(...page.items.map((p) => p.sku));
      cursor = page.nextCursor;
    } while (cursor);

    expect(new Set(skus).size).toBe(skus.length);
    expect(skus.filter((s) => s.startsWith(prefix))).toEqual(mine);
  });
});
