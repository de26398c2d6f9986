import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Kind, TransformKind } from "@sinclair/typebox";
import { commerce } from "../test-support/commerce.ts";
import { readCheckedAnswer } from "../test-support/hostile-input.ts";
import { admin, alice, startTestShop, type TestShop } from "../test-support/shop.ts";
import { expectNothingWritten, settledSnapshot } from "../test-support/table-snapshot.ts";

// A JSON body's numbers and booleans are JSON numbers and booleans: "2" is not 2 and "false" is not false. A query
// parameter is text on the wire, so an integer one is the text of a decimal integer and nothing that merely
// converts to one ("1e2", "0x10", " 10"). Either way a refusal is a 422 naming the field, and writes nothing.

let shop: TestShop;
const KNOWN_SKU = `TYPES-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
const ORDER_ID = "0190a5c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f";

beforeAll(async () => {
  shop = await startTestShop("hostile_json_types");
  await commerce(shop).createProduct(KNOWN_SKU, 50, 1500);
});

afterAll(async () => {
  await shop?.close();
});

const sql = () => shop.shop.databaseOf("orders").sql;

async function expectRefused(path: string, init: RequestInit & { as?: typeof alice; json?: unknown }, part: string, field: string): Promise<void> {
  const answer = await readCheckedAnswer(await shop.request(path, init));
  const fields = ((answer.problem?.errors ?? []) as Array<{ in: string; field: string }>).map((e) => [e.in, e.field]);
  expect({ path, body: init.json, status: answer.status, fields }).toEqual({ path, body: init.json, status: 422, fields: [[part, field]] });
}

describe("numbers and booleans in JSON bodies", () => {
  const quantities = ["2", "1e2", " 2", "0x2", "2.0", ""];

  test("when POST /orders sends a quantity as a string, then 422 names the line's quantity and nothing is written", async () => {
    const before = await settledSnapshot(sql());
    for (const quantity of quantities) {
      await expectRefused("/orders", { method: "POST", as: alice, json: { items: [{ sku: KNOWN_SKU, quantity }] } }, "body", "/items/0/quantity");
    }
    await expectNothingWritten(sql(), before);
  });

  test("when PUT /products sends the price or the stock as a string, or active as a string or a number, then 422 names it and nothing is written", async () => {
    const before = await settledSnapshot(sql());
    const newSku = `TYPES-NEW-${crypto.randomUUID().slice(0, 8)}`;
    for (const sku of [KNOWN_SKU, newSku]) {
      const put = (json: unknown) => ({ method: "PUT", as: admin, json });
      for (const priceCents of ["1500", "1e3", " 1500", "0x10", "1500.0"]) {
        await expectRefused(`/products/${sku}`, put({ name: "Mug", priceCents }), "body", "/priceCents");
      }
      for (const stock of ["5", "1e1", "0x5"]) await expectRefused(`/products/${sku}`, put({ name: "Mug", priceCents: 1500, stock }), "body", "/stock");
      for (const active of ["false", "true", 0, 1, "0"]) {
        await expectRefused(`/products/${sku}`, put({ name: "Mug", priceCents: 1500, active }), "body", "/active");
      }
      await expectRefused(`/products/${sku}`, put({ name: 42, priceCents: 1500 }), "body", "/name");
      await expectRefused(`/products/${sku}`, put({ name: "Mug", priceCents: 1500, currency: 978 }), "body", "/currency");
    }
    await expectNothingWritten(sql(), before);
  });

  test("when POST /products/:sku/stock sends the delta as a string, or a cancel sends a number as its reason, then 422 names it and nothing is written", async () => {
    const before = await settledSnapshot(sql());
    for (const delta of ["5", "-1", "1e1", "0x5", " 5"]) {
      await expectRefused(`/products/${KNOWN_SKU}/stock`, { method: "POST", as: admin, json: { delta } }, "body", "/delta");
    }
    await expectRefused(`/orders/${ORDER_ID}/cancel`, { method: "POST", as: alice, json: { reason: 5 } }, "body", "/reason");
    await expectNothingWritten(sql(), before);
  });

  test("when the same fields are JSON numbers and booleans, then they are taken", async () => {
    const placed = await shop.request("/orders", { method: "POST", as: alice, json: { items: [{ sku: KNOWN_SKU, quantity: 2 }] } });
    const put = await shop.request(`/products/${KNOWN_SKU}`, { method: "PUT", as: admin, json: { name: "Mug", priceCents: 1600, active: true, stock: 3 } });
    const stock = await shop.request(`/products/${KNOWN_SKU}/stock`, { method: "POST", as: admin, json: { delta: 5 } });

    expect(placed.status).toBe(201);
    expect(await placed.json()).toMatchObject({ items: [{ quantity: 2 }] });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ priceCents: 1600, active: true });
    expect(stock.status).toBe(200);
    expect(await stock.json()).toMatchObject({ onHand: 55 });
  });

  test("when any route's body schema is walked, then no number or boolean in it also accepts a string", () => {
    const routes = shop.shop.http.routes.filter((route) => (route.hooks as { body?: unknown }).body !== undefined);
    expect(routes.map((route) => `${route.method} ${route.path}`).sort()).toEqual([
      "POST /orders",
      "POST /orders/:id/cancel",
      "POST /products/:sku/stock",
      "PUT /products/:sku",
    ]);
    for (const route of routes) expect({ route: `${route.method} ${route.path}`, coercing: coercingNodes((route.hooks as { body: unknown }).body) }).toEqual({
      route: `${route.method} ${route.path}`,
      coercing: [],
    });
  });
});

/** JSON Pointers of the schema nodes that would take a string for a number or a boolean (Elysia's t.Integer, t.Numeric...). */
function coercingNodes(schema: unknown, path = ""): string[] {
  if (schema === null || typeof schema !== "object") return [];
  const node = schema as Record<string | symbol, unknown> & { anyOf?: unknown[]; properties?: Record<string, unknown>; items?: unknown };
  const found: string[] = [];
  const members = (node.anyOf ?? []) as Array<{ type?: unknown }>;
  const takesString = members.some((m) => m.type === "string");
  const isScalar = (m: { type?: unknown }) => m.type === "integer" || m.type === "number" || m.type === "boolean";
  if (TransformKind in node || (takesString && members.some(isScalar))) found.push(path || "/");
  for (const [name, child] of Object.entries(node.properties ?? {})) found.push(...coercingNodes(child, `${path}/${name}`));
  if (node.items) found.push(...coercingNodes(node.items, `${path}/*`));
  for (const member of node.anyOf ?? []) if (Kind in (member as object)) found.push(...coercingNodes(member, path));
  return found;
}

describe("integer query parameters", () => {
  const lists = [
    { path: "/products", as: undefined },
    { path: "/orders", as: alice },
    { path: "/notifications", as: admin },
  ];

  test("when GET /docs/json is read, then the only integer query parameters are the three page sizes, and no path parameter is a number", async () => {
    const doc = (await (await shop.request("/docs/json")).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema: { type?: string; anyOf?: Array<{ type?: string }> } }> }>>;
    };
    const integers: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const parameter of operation.parameters ?? []) {
          const types = [parameter.schema.type, ...(parameter.schema.anyOf ?? []).map((m) => m.type)];
          if (parameter.in === "path") expect({ path, parameter: parameter.name, types }).toEqual({ path, parameter: parameter.name, types: ["string"] });
          if (types.includes("integer") || types.includes("number")) integers.push(`${method.toUpperCase()} ${path} ${parameter.in} ${parameter.name}`);
        }
      }
    }
    expect(integers.sort()).toEqual(["GET /notifications query limit", "GET /orders query limit", "GET /products query limit"]);
  });

  for (const { path, as } of lists) {
    test(`when GET ${path} gets a limit that only converts to an integer, then 422 names /limit; plain decimal digits are taken`, async () => {
      const before = await settledSnapshot(sql());
      for (const limit of ["1e1", "10.5", "10.0", "%2010", "10%20", "", "0x10", "+10", "010", "1_0", "Infinity", "-0"]) {
        await expectRefused(`${path}?limit=${limit}`, { as }, "query", "/limit");
      }
      await expectNothingWritten(sql(), before);
      for (const limit of ["1", "10", "100"]) {
        const res = await shop.request(`${path}?limit=${limit}`, { as });
        expect({ limit, status: res.status }).toEqual({ limit, status: 200 });
      }
    });
  }
});
