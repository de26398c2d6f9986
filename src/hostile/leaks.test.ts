import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../test-support/eventually.ts";
import { readCheckedAnswer, type Answer } from "../test-support/hostile-input.ts";
import { admin, alice, startTestShop, type TestShop } from "../test-support/shop.ts";
import { expectNothingWritten, settledSnapshot } from "../test-support/table-snapshot.ts";

// SQL text, stack traces and internal messages never reach a client: not when valid-looking input drives
// PostgreSQL to an error (overflow, text it cannot store, out-of-range dates), and not when the database
// itself fails a query (a constraint the app does not know, a table that has gone): those answer a generic
// 500 with nothing but its title, status, instance and request id.

let shop: TestShop;
const MAX_UNITS = 2_147_483_647;
const run = crypto.randomUUID().slice(0, 6).toUpperCase();

/** What an error answer must never contain (case-insensitive), beyond INTERNAL_ERROR_TRACES. */
const LEAKS = [
  "select ",
  "insert ",
  "update ",
  "delete from",
  " from \"",
  "failed query",
  "postgres",
  "drizzle",
  "    at ",
  "node_modules",
  "_check",
  "_fkey",
  "_pkey",
  "_key\"",
  "constraint",
  "relation ",
  "violates",
  "out of range for type",
  "invalid byte sequence",
  "sqlstate",
  "stack",
];

beforeAll(async () => {
  shop = await startTestShop("hostile_leaks");
});

afterAll(async () => {
  await shop?.close();
});

const sql = () => shop.shop.databaseOf("orders").sql;

/**
 * Sends, checks the shared promises (no internals, problem shape), then the stricter leak list — after taking
 * out `echoed`, the caller's own input that a message may quote back (an unknown sku is named, for instance).
 */
async function answerOf(path: string, init: RequestInit & { as?: typeof alice; json?: unknown } = {}, echoed: string[] = []): Promise<Answer> {
  const answer = await readCheckedAnswer(await shop.request(path, init), { allowServerError: true });
  if (answer.status >= 400) {
    let lower = answer.text.toLowerCase();
    for (const text of echoed) lower = lower.replaceAll(JSON.stringify(text.toLowerCase()).slice(1, -1), "");
    expect(LEAKS.filter((leak) => lower.includes(leak))).toEqual([]);
  }
  return answer;
}

async function product(sku: string, fields: Record<string, unknown>) {
  const answer = await answerOf(`/products/${sku}`, { method: "PUT", as: admin, json: { name: `Leak ${sku}`, priceCents: 100, ...fields } });
  expect(answer.status).toBe(201);
}

describe("database errors driven by valid-looking input", () => {
  test("when stock would pass the largest integer (2147483647 added twice, or 1 past a full shelf), then 422 names /delta and nothing changes", async () => {
    const doubled = `BIG-${run}`;
    const full = `FULL-${run}`;
    await product(doubled, { stock: 0 });
    await product(full, { stock: MAX_UNITS });
    expect((await answerOf(`/products/${doubled}/stock`, { method: "POST", as: admin, json: { delta: MAX_UNITS } })).status).toBe(200);
    const before = await settledSnapshot(sql());
    for (const [sku, delta] of [[doubled, MAX_UNITS], [doubled, 1], [full, 1], [full, MAX_UNITS]] as const) {
      const answer = await answerOf(`/products/${sku}/stock`, { method: "POST", as: admin, json: { delta } });
      expect(answer.status).toBe(422);
      expect(answer.problem).toMatchObject({ code: "INVENTORY.STOCK_OUT_OF_RANGE", errors: [{ in: "body", field: "/delta" }] });
    }
    await expectNothingWritten(sql(), before);
  });

  test("when the largest price meets the largest quantity on 50 lines, then the order is priced exactly, confirmed and mailed", async () => {
    const skus = Array.from({ length: 50 }, (_, i) => `PRICEY-${run}-${i}`);
    for (const sku of skus) await product(sku, { priceCents: MAX_UNITS, stock: 1000 });
    const res = await eventually(
      () => shop.request("/orders", { method: "POST", as: alice, json: { items: skus.map((sku) => ({ sku, quantity: 1000 })) } }),
      { accept: (r) => r.status !== 422, what: "orders to know every price" },
    );
    const answer = await readCheckedAnswer(res);
    expect(answer.status).toBe(201);
    const order = JSON.parse(answer.text) as { id: string; totalCents: number };
    expect(order.totalCents).toBe(MAX_UNITS * 1000 * 50);
    const confirmed = await eventually(async () => (await answerOf(`/orders/${order.id}`, { as: alice })).text, {
      accept: (text) => JSON.parse(text).status === "confirmed",
      what: "the order to be confirmed",
    });
    expect(JSON.parse(confirmed).items[0].lineTotalCents).toBe(MAX_UNITS * 1000);
    expect((await answerOf("/orders?limit=100", { as: alice })).status).toBe(200);
    await eventually(async () => JSON.parse((await answerOf(`/notifications?orderId=${order.id}`, { as: admin })).text).items, {
      accept: (items: Array<{ status: string }>) => items.some((m) => m.status === "sent"),
      what: "the confirmation e-mail",
    });
  });

  test("when text PostgreSQL cannot store (U+0000) or a cursor it cannot compare arrives, then 422 naming the field, not a 500", async () => {
    const sku = `NUL-${run}`;
    await product(sku, { stock: 5 });
    const placed = await eventually(() => shop.request("/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 1 }] } }), {
      accept: (r) => r.status === 201,
    });
    const { id } = (await placed.json()) as { id: string };
    const before = await settledSnapshot(sql());
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const cases: Array<[string, RequestInit & { as?: typeof alice; json?: unknown }, string]> = [
      [`/products/${sku}`, { method: "PUT", as: admin, json: { name: "mug\u0000", priceCents: 1 } }, "/name"],
      ["/orders", { method: "POST", as: alice, json: { items: [{ sku: `${sku}\u0000`, quantity: 1 }] } }, "/items/0/sku"],
      [`/orders/${id}/cancel`, { method: "POST", as: alice, json: { reason: "\u0000" } }, "/reason"],
      ["/products?cursor=AA", {}, "/cursor"],
      [`/orders?cursor=${cursor({ t: "+275760-09-13T00:00:00.000Z", id })}`, { as: alice }, "/cursor"],
      [`/orders?cursor=${cursor({ t: "0000-01-01T00:00:00.000Z", id })}`, { as: admin }, "/cursor"],
    ];
    for (const [path, init, field] of cases) {
      const answer = await answerOf(path, init);
      expect({ path, status: answer.status }).toEqual({ path, status: 422 });
      expect((answer.problem?.errors as Array<{ field: string }>).map((e) => e.field)).toContain(field);
    }
    await expectNothingWritten(sql(), before);
  });
});

describe("database errors the app cannot foresee", () => {
  /** The generic 500: nothing but these members, whatever the real error said. */
  function expectGeneric500(answer: Answer, instance: string) {
    expect(answer.status).toBe(500);
    expect(answer.contentType).toBe("application/problem+json");
    expect(Object.keys(answer.problem ?? {}).sort()).toEqual(["instance", "requestId", "status", "title", "type"]);
    expect(answer.problem).toMatchObject({ type: "about:blank", title: "Internal Server Error", status: 500, instance });
  }

  test("when PostgreSQL refuses a write with a check constraint the app does not know, then a generic 500 names no constraint and nothing is written", async () => {
    const sku = `CHECK-${run}`;
    const before = await settledSnapshot(sql());
    await sql().unsafe(`alter table inventory.products add constraint leak_probe_check check (name <> 'leak probe')`);
    try {
      const answer = await answerOf(`/products/${sku}`, { method: "PUT", as: admin, json: { name: "leak probe", priceCents: 1 } });
      expectGeneric500(answer, `/products/${sku}`);
    } finally {
      await sql().unsafe(`alter table inventory.products drop constraint leak_probe_check`);
    }
    await expectNothingWritten(sql(), before);
  });

  test("when a table the query needs has gone, then a generic 500 shows no SQL, relation or stack, and nothing is written", async () => {
    const sku = `GONE-${run}`;
    await product(sku, { stock: 3 });
    await eventually(() => shop.request("/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 1 }] } }), {
      accept: (r) => r.status === 201,
      what: "orders to know the product",
    });
    const before = await settledSnapshot(sql());
    await sql().unsafe(`alter table orders.catalog rename to catalog_hidden_by_leak_test`);
    try {
      const answer = await answerOf("/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 1 }] } });
      expectGeneric500(answer, "/orders");
    } finally {
      await sql().unsafe(`alter table orders.catalog_hidden_by_leak_test rename to catalog`);
    }
    await expectNothingWritten(sql(), before);
  });
});

describe("inputs that look like SQL", () => {
  test("when ids, skus, cursors and bodies carry SQL, then the answers are 4xx problems without SQL of ours and the tables are intact", async () => {
    const before = await settledSnapshot(sql());
    const sqlish = ["' or 1=1 --", "'; drop table orders.orders; --", "1 union select password from users", "$1", "\\x00", "%' and pg_sleep(1) --"];
    for (const text of sqlish) {
      const encoded = encodeURIComponent(text);
      for (const [path, init] of [
        [`/products/${encoded}`, {}],
        [`/products/${encoded}`, { method: "PUT", as: admin, json: { name: text, priceCents: 1 } }],
        [`/orders/${encoded}`, { as: alice }],
        [`/orders/${encoded}/cancel`, { method: "POST", as: alice, json: { reason: text } }],
        [`/orders?status=${encoded}&cursor=${encoded}`, { as: admin }],
        [`/products?cursor=${encoded}`, {}],
        [`/notifications?orderId=${encoded}&cursor=${encoded}`, { as: admin }],
        ["/orders", { method: "POST", as: alice, json: { items: [{ sku: text, quantity: 1 }] } }],
      ] as Array<[string, RequestInit & { as?: typeof alice; json?: unknown }]>) {
        const answer = await answerOf(path, init, [text]);
        expect({ path, status: answer.status >= 400 && answer.status < 500 }).toEqual({ path, status: true });
      }
    }
    await expectNothingWritten(sql(), before);
  });
});
