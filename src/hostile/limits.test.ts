import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_BODY_BYTES } from "../platform/http/server.ts";
import { eventually } from "../test-support/eventually.ts";
import { readCheckedAnswer } from "../test-support/hostile-input.ts";
import { admin, alice, startTestShop, tokenFor, type TestShop } from "../test-support/shop.ts";
import { expectNothingWritten, settledSnapshot } from "../test-support/table-snapshot.ts";

// The documented limits (README "Limits"): the value at the limit is accepted, one step past it is refused
// with 422 naming the field (413 for the body size) and nothing is written.

let shop: TestShop;
let baseUrl = "";
const MAX_UNITS = 2_147_483_647;
const run = crypto.randomUUID().slice(0, 6).toUpperCase();
const SKUS = Array.from({ length: 50 }, (_, i) => `LIM-${run}-${String(i).padStart(2, "0")}`);
const LONGEST_SKU = `L${run}`.padEnd(64, "X");

beforeAll(async () => {
  shop = await startTestShop("hostile_limits");
  shop.shop.http.listen({ port: 0, hostname: "127.0.0.1" });
  baseUrl = `http://127.0.0.1:${shop.shop.http.server!.port}`;
  for (const sku of [...SKUS, LONGEST_SKU]) {
    const res = await shop.request(`/products/${sku}`, { method: "PUT", as: admin, json: { name: `Limit ${sku}`, priceCents: 100, stock: 100_000 } });
    expect(res.status).toBe(201);
  }
  // Orders prices from its copy of the catalog: wait until the last product has arrived there.
  await eventually(
    async () => (await shop.shop.databaseOf("orders").sql`select count(*)::int as n from orders.catalog where sku = any(${[...SKUS, LONGEST_SKU]})`)[0]?.n,
    { accept: (n) => n === SKUS.length + 1, what: "orders to know every product" },
  );
});

afterAll(async () => {
  await shop?.close();
});

const sql = () => shop.shop.databaseOf("orders").sql;
const order = (items: Array<{ sku: string; quantity: unknown }>) => ({ items });

/** Sends the request, checks the answer is a 422 problem naming exactly `field` (in `part`), returns it. */
async function expectRefused(path: string, init: RequestInit & { as?: typeof alice; json?: unknown }, part: string, field: string) {
  const answer = await readCheckedAnswer(await shop.request(path, init));
  expect(answer.status).toBe(422);
  const errors = (answer.problem?.errors ?? []) as Array<{ in: string; field: string }>;
  expect(errors.map((e) => [e.in, e.field])).toContainEqual([part, field]);
  return answer;
}

describe("request body size", () => {
  /** A valid order whose JSON text is exactly `bytes` long, padded with a property the schema drops. */
  function paddedOrder(bytes: number): string {
    const skeleton = JSON.stringify({ items: [{ sku: SKUS[0], quantity: 1 }], padding: "" });
    return JSON.stringify({ items: [{ sku: SKUS[0], quantity: 1 }], padding: "x".repeat(bytes - skeleton.length) });
  }

  test("when a body is one byte over 1 MB, then Bun answers 413 itself and nothing is written; exactly 1 MB is accepted", async () => {
    const token = await tokenFor(alice);
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const before = await settledSnapshot(sql());

    const tooLarge = paddedOrder(MAX_BODY_BYTES + 1);
    expect(Buffer.byteLength(tooLarge)).toBe(MAX_BODY_BYTES + 1);
    const refused = await fetch(`${baseUrl}/orders`, { method: "POST", headers, body: tooLarge });
    expect(refused.status).toBe(413);
    await refused.arrayBuffer();
    await expectNothingWritten(sql(), before);

    const atLimit = paddedOrder(MAX_BODY_BYTES);
    expect(Buffer.byteLength(atLimit)).toBe(MAX_BODY_BYTES);
    const accepted = await fetch(`${baseUrl}/orders`, { method: "POST", headers, body: atLimit });
    expect(accepted.status).toBe(201);
  });

  test("when a chunked body without Content-Length grows past 1 MB, then it is refused with 413 and nothing is written", async () => {
    const token = await tokenFor(alice);
    const before = await settledSnapshot(sql());
    const text = paddedOrder(MAX_BODY_BYTES + 64 * 1024);
    const chunks = text.match(/[\s\S]{1,65536}/g)!;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const res = await fetch(`${baseUrl}/orders`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    await res.arrayBuffer();
    await expectNothingWritten(sql(), before);
  });
});

describe("order limits", () => {
  test("when an order has 51 lines, a quantity past 1–1000 or a sku over 64 characters, then 422 names the field and nothing is written", async () => {
    const before = await settledSnapshot(sql());
    const fiftyOne = [...SKUS, LONGEST_SKU].map((sku) => ({ sku, quantity: 1 }));
    await expectRefused("/orders", { method: "POST", as: alice, json: order(fiftyOne) }, "body", "/items");
    for (const quantity of [1001, 0, -1, 1.5, "1001", "0", 1e21, MAX_UNITS + 1]) {
      await expectRefused("/orders", { method: "POST", as: alice, json: order([{ sku: SKUS[0]!, quantity }]) }, "body", "/items/0/quantity");
    }
    await expectRefused("/orders", { method: "POST", as: alice, json: order([{ sku: `${LONGEST_SKU}X`, quantity: 1 }]) }, "body", "/items/0/sku");
    await expectRefused("/orders", { method: "POST", as: alice, json: order([{ sku: "", quantity: 1 }]) }, "body", "/items/0/sku");
    await expectRefused("/orders", { method: "POST", as: alice, json: order([]) }, "body", "/items");
    await expectNothingWritten(sql(), before);
  });

  test("when an order has exactly 50 lines, quantity 1000 and 1 and a 64-character sku, then it is placed", async () => {
    const fifty = SKUS.map((sku, i) => ({ sku: i === 0 ? LONGEST_SKU : sku, quantity: i === 1 ? 1000 : 1 }));
    const res = await shop.request("/orders", { method: "POST", as: alice, json: order(fifty) });
    expect(res.status).toBe(201);
    const placed = (await res.json()) as { items: Array<{ sku: string; quantity: number }> };
    expect(placed.items).toHaveLength(50);
    expect(placed.items.map((i) => i.quantity)).toContain(1000);
    expect(placed.items.map((i) => i.sku)).toContain(LONGEST_SKU);
  });

  test("when an Idempotency-Key has 256 characters or a cancel reason 501, then 422 names it; 255 and 500 are accepted", async () => {
    const before = await settledSnapshot(sql());
    const line = order([{ sku: SKUS[2]!, quantity: 1 }]);
    await expectRefused("/orders", { method: "POST", as: alice, json: line, headers: { "idempotency-key": "k".repeat(256) } }, "headers", "/idempotency-key");
    await expectNothingWritten(sql(), before);

    const placed = await shop.request("/orders", { method: "POST", as: alice, json: line, headers: { "idempotency-key": "k".repeat(255) } });
    expect(placed.status).toBe(201);
    const { id } = (await placed.json()) as { id: string };
    const afterPlacing = await settledSnapshot(sql());
    await expectRefused(`/orders/${id}/cancel`, { method: "POST", as: alice, json: { reason: "r".repeat(501) } }, "body", "/reason");
    await expectNothingWritten(sql(), afterPlacing);
    const cancelled = await shop.request(`/orders/${id}/cancel`, { method: "POST", as: alice, json: { reason: "r".repeat(500) } });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as { statusReason: string }).statusReason).toBe("r".repeat(500));
  });
});

describe("catalog limits", () => {
  test("when a sku is 65 characters or has characters outside [A-Za-z0-9._-], then PUT, GET and stock answer 422 naming /sku and nothing is written", async () => {
    const before = await settledSnapshot(sql());
    const body = { name: "Bad sku", priceCents: 1 };
    for (const sku of [`${LONGEST_SKU}X`, "-starts-with-dash", ".dot", "a%20b", "a%2Fb", "caf%C3%A9", "a'b", "a%00b", "a%3Bb"]) {
      await expectRefused(`/products/${sku}`, { method: "PUT", as: admin, json: body }, "params", "/sku");
      await expectRefused(`/products/${sku}`, {}, "params", "/sku");
      await expectRefused(`/products/${sku}/stock`, { method: "POST", as: admin, json: { delta: 1 } }, "params", "/sku");
    }
    await expectNothingWritten(sql(), before);
  });

  test("when a name, price, stock or delta is one past its limit, then 422 names the field and nothing is written", async () => {
    const before = await settledSnapshot(sql());
    const sku = `NEW-${run}`;
    const valid = { name: "Edge", priceCents: 1, stock: 0 };
    await expectRefused(`/products/${sku}`, { method: "PUT", as: admin, json: { ...valid, name: "n".repeat(201) } }, "body", "/name");
    await expectRefused(`/products/${sku}`, { method: "PUT", as: admin, json: { ...valid, name: "" } }, "body", "/name");
    await expectRefused(`/products/${sku}`, { method: "PUT", as: admin, json: { ...valid, priceCents: MAX_UNITS + 1 } }, "body", "/priceCents");
    await expectRefused(`/products/${sku}`, { method: "PUT", as: admin, json: { ...valid, priceCents: -1 } }, "body", "/priceCents");
    await expectRefused(`/products/${sku}`, { method: "PUT", as: admin, json: { ...valid, stock: MAX_UNITS + 1 } }, "body", "/stock");
    await expectRefused(`/products/${sku}`, { method: "PUT", as: admin, json: { ...valid, currency: "EURO" } }, "body", "/currency");
    await expectRefused(`/products/${SKUS[3]}/stock`, { method: "POST", as: admin, json: { delta: MAX_UNITS + 1 } }, "body", "/delta");
    await expectRefused(`/products/${SKUS[3]}/stock`, { method: "POST", as: admin, json: { delta: -(MAX_UNITS + 1) } }, "body", "/delta");
    await expectRefused(`/products/${SKUS[3]}/stock`, { method: "POST", as: admin, json: { delta: 0 } }, "body", "/delta");
    await expectNothingWritten(sql(), before);
  });

  test("when a name has 200 characters, the price and stock are at their maximum and the sku is 64 characters, then the product is created", async () => {
    const sku = `E${run}`.padEnd(64, "9");
    const res = await shop.request(`/products/${sku}`, { method: "PUT", as: admin, json: { name: "n".repeat(200), priceCents: MAX_UNITS, stock: MAX_UNITS } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ sku, priceCents: MAX_UNITS, onHand: MAX_UNITS, available: MAX_UNITS });
  });
});

describe("page size", () => {
  const lists = [
    { path: "/products", as: undefined },
    { path: "/orders", as: alice },
    { path: "/notifications", as: admin },
  ];

  for (const { path, as } of lists) {
    test(`when GET ${path} asks for 0, 101 or a non-number per page, then 422 names the query field /limit; 1 and 100 are accepted`, async () => {
      const before = await settledSnapshot(sql());
      for (const limit of ["0", "101", "-1", "abc", "1.5", "", "1e3", "99999999999999999999"]) {
        await expectRefused(`${path}?limit=${limit}`, { as }, "query", "/limit");
      }
      await expectNothingWritten(sql(), before);
      for (const limit of ["1", "100"]) {
        const res = await shop.request(`${path}?limit=${limit}`, { as });
        expect(res.status).toBe(200);
        const page = (await res.json()) as { items: unknown[] };
        expect(page.items.length).toBeLessThanOrEqual(Number(limit));
      }
    });
  }
});
