import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { eventually } from "../test-support/eventually.ts";
import {
  extraProperties,
  hostileNumber,
  hostilePathSegment,
  hostileQuery,
  hostileString,
  hostileValue,
  isJsonContentType,
  JSON_CONTENT_TYPES,
  junkAuthorization,
  malformedJsonText,
  noiseHeaders,
  OTHER_CONTENT_TYPES,
  parsedJson,
  rawNumberLiteral,
  toJsonText,
} from "../test-support/hostile-arbitraries.ts";
import { propertyParameters, readCheckedAnswer, type Answer } from "../test-support/hostile-input.ts";
import { admin, alice, startTestShop, tokenFor, type TestShop } from "../test-support/shop.ts";
import { expectNothingWritten, settledSnapshot, snapshotTables } from "../test-support/table-snapshot.ts";

// Property-based hostile input against every route: whatever is sent, the answer is never a 5xx, every
// 4xx is a problem document, and an invalid request writes nothing. Generators for bodies that would be
// valid are filtered out by `would…` predicates that restate the documented rules (README "Limits"),
// so "invalid" is decided here, not by the server under test. Replay a failure with FC_SEED=<seed>.

let shop: TestShop;
const tokens = { alice: "", admin: "" };
const MAX_UNITS = 2_147_483_647;
const KNOWN_SKU = `HOSTILE-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
const STOCK = { onHand: 10, reserved: 0 };
let confirmedOrderId = "";

beforeAll(async () => {
  shop = await startTestShop("hostile_props");
  tokens.alice = await tokenFor(alice);
  tokens.admin = await tokenFor(admin);
  const put = await shop.request(`/products/${KNOWN_SKU}`, { method: "PUT", as: admin, json: { name: "Hostile mug", priceCents: 1500, stock: STOCK.onHand } });
  expect(put.status).toBe(201);
  const placed = await eventually(
    () => shop.request("/orders", { method: "POST", as: alice, json: { items: [{ sku: KNOWN_SKU, quantity: 1 }] } }),
    { accept: (res) => res.status === 201, what: "orders to know the product" },
  );
  confirmedOrderId = ((await placed.json()) as { id: string }).id;
  await eventually(async () => ((await (await shop.request(`/orders/${confirmedOrderId}`, { as: alice })).json()) as { status: string }).status, {
    accept: (status) => status === "confirmed",
    what: "the order to be confirmed",
  });
  STOCK.reserved = 1;
  await settledSnapshot(shop.shop.databaseOf("orders").sql);
});

afterAll(async () => {
  await shop?.close();
});

type Caller = "anonymous" | "alice" | "admin" | { junk: string };

/** Mostly signed-in callers, so that validation (not only authentication) is what gets exercised. */
const caller: fc.Arbitrary<Caller> = fc.oneof(
  { arbitrary: fc.constant<Caller>("admin"), weight: 4 },
  { arbitrary: fc.constant<Caller>("alice"), weight: 3 },
  { arbitrary: fc.constant<Caller>("anonymous"), weight: 1 },
  { arbitrary: junkAuthorization.map((junk): Caller => ({ junk })), weight: 1 },
);

interface HostileRequest {
  method: string;
  path: string;
  caller: Caller;
  headers?: Record<string, string>;
  contentType?: string;
  body?: string;
}

async function send(r: HostileRequest): Promise<Answer> {
  const headers = new Headers(r.headers);
  if (r.caller === "alice" || r.caller === "admin") headers.set("authorization", `Bearer ${tokens[r.caller]}`);
  else if (r.caller !== "anonymous") headers.set("authorization", r.caller.junk);
  if (r.contentType !== undefined) headers.set("content-type", r.contentType);
  const res = await shop.shop.http.handle(new Request(`http://localhost${r.path}`, { method: r.method, headers, body: r.body }));
  const answer = await readCheckedAnswer(res);
  // Whatever keys the bodies carried, nothing reached Object.prototype.
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || probe.isAdmin !== undefined) throw new Error("Object.prototype was polluted");
  return answer;
}

/** Runs the property and asserts that not a single row of any module table changed meanwhile. */
async function assertNoWrites<T>(arbitrary: fc.Arbitrary<T>, check: (input: T) => Promise<void>, numRuns: number): Promise<void> {
  const sql = shop.shop.databaseOf("orders").sql;
  const before = await snapshotTables(sql);
  await fc.assert(fc.asyncProperty(arbitrary, check), propertyParameters(numRuns));
  await expectNothingWritten(sql, before);
}

/** An integer field of a JSON body takes a JSON number without a fraction, never a string (not even "2"). */
function integerLike(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);
const inRange = (value: unknown, min: number, max: number) => {
  const n = integerLike(value);
  return n !== undefined && n >= min && n <= max;
};

/** Would POST /orders place an order with this (parsed) body? */
function wouldPlaceOrder(body: unknown): boolean {
  if (!isObject(body) || !Array.isArray(body.items) || body.items.length < 1 || body.items.length > 50) return false;
  const skus = new Set<unknown>();
  for (const item of body.items as unknown[]) {
    if (!isObject(item) || typeof item.sku !== "string" || item.sku !== KNOWN_SKU || skus.has(item.sku)) return false;
    if (!inRange(item.quantity, 1, 1000)) return false;
    skus.add(item.sku);
  }
  return true;
}

/** Would PUT /products/:sku store this (parsed) body? */
function wouldUpsertProduct(body: unknown): boolean {
  if (!isObject(body)) return false;
  const { name, priceCents, currency, active, stock } = body;
  if (typeof name !== "string" || name.length < 1 || name.length > 200 || !/\S/.test(name) || name.includes("\u0000")) return false;
  if (!inRange(priceCents, 0, MAX_UNITS)) return false;
  if (currency !== undefined && (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency))) return false;
  if (active !== undefined && typeof active !== "boolean") return false;
  return stock === undefined || inRange(stock, 0, MAX_UNITS);
}

/** Would POST /products/:sku/stock change the known product's stock? */
function wouldAdjustStock(body: unknown): boolean {
  if (!isObject(body)) return false;
  const delta = integerLike(body.delta);
  if (delta === undefined || delta === 0 || Math.abs(delta) > MAX_UNITS) return false;
  const onHand = STOCK.onHand + delta;
  return onHand >= STOCK.reserved && onHand <= MAX_UNITS;
}

/** Would POST /orders/:id/cancel cancel the order? An absent body, or an object whose reason (if any) is sane. */
function wouldCancel(contentType: string, text: string): boolean {
  if (!isJsonContentType(contentType)) return false;
  // Blank JSON is no body at all; blank text/plain is a (refused) string.
  if (text.trim() === "") return true;
  const parsed = parsedJson(text);
  if (!parsed || !isObject(parsed.value)) return false;
  const { reason } = parsed.value;
  return reason === undefined || (typeof reason === "string" && reason.length <= 500 && !reason.includes("\u0000"));
}

/** A body: JSON of the given values, or malformed text; with a JSON or another Content-Type. */
function bodyOf(values: fc.Arbitrary<unknown>): fc.Arbitrary<{ contentType: string; body: string }> {
  return fc.record({
    contentType: fc.oneof({ arbitrary: fc.constantFrom(...JSON_CONTENT_TYPES), weight: 5 }, { arbitrary: fc.constantFrom(...OTHER_CONTENT_TYPES), weight: 1 }),
    body: fc.oneof({ arbitrary: values.map(toJsonText), weight: 5 }, { arbitrary: malformedJsonText, weight: 1 }),
  });
}

/** True when the server would parse `body` as JSON and `accept` would take the value. */
function acceptedJson(request: { contentType: string; body: string }, accept: (value: unknown) => boolean): boolean {
  if (!isJsonContentType(request.contentType)) return false;
  const parsed = parsedJson(request.body);
  return parsed !== undefined && accept(parsed.value);
}

/** A valid object with one field replaced by a hostile value (or dropped), plus hostile extra properties. */
function corrupted(valid: Record<string, unknown>, fieldValues: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const fields = Object.keys(fieldValues);
  return fc
    .tuple(fc.constantFrom(...fields), fc.option(extraProperties, { nil: undefined }))
    .chain(([field, extras]) =>
      fc.option(fieldValues[field]!, { nil: undefined, freq: 8 }).map((value) => {
        const result: Record<string, unknown> = { ...extras, ...valid };
        if (value === undefined) delete result[field];
        else result[field] = value;
        return result;
      }),
    );
}

const notAnInteger = fc.oneof(hostileValue, rawNumberLiteral, hostileNumber.map(String));
const skuPath = fc.oneof(fc.constant(KNOWN_SKU), fc.constant(`NEW-${crypto.randomUUID().slice(0, 8)}`), hostilePathSegment);
const orderIdPath = fc.oneof(fc.uuid(), hostilePathSegment);

describe("catalog routes under hostile input", () => {
  test("when GET /products/:sku gets any path segment, query and headers, then it answers 200 or a problem and writes nothing", async () => {
    const input = fc.record({ sku: skuPath, query: hostileQuery(["limit", "cursor"]), headers: noiseHeaders, caller });
    await assertNoWrites(
      input,
      async ({ sku, query, headers, caller }) => {
        const answer = await send({ method: "GET", path: `/products/${sku}?${query}`, headers, caller });
        expect([200, 401, 404, 422]).toContain(answer.status);
      },
      150,
    );
  });

  test("when GET /products gets junk limit and cursor values, then it answers 200 or a problem and writes nothing", async () => {
    const input = fc.record({ query: hostileQuery(["limit", "cursor"]), headers: noiseHeaders, caller });
    await assertNoWrites(
      input,
      async ({ query, headers, caller }) => {
        const answer = await send({ method: "GET", path: `/products?${query}`, headers, caller });
        expect([200, 401, 422]).toContain(answer.status);
      },
      150,
    );
  });

  test("when PUT /products/:sku gets an invalid body, whoever sends it, then it answers a 4xx problem and writes nothing", async () => {
    const productBody = corrupted(
      { name: "Mug", priceCents: 1200, currency: "EUR", active: true, stock: 3 },
      {
        name: fc.oneof(hostileValue, fc.constantFrom("", "   ", "\t", "a\u0000b", "x".repeat(201))),
        priceCents: fc.oneof(notAnInteger, fc.constantFrom(-1, MAX_UNITS + 1, "-1", "2147483648")),
        currency: fc.oneof(hostileValue, fc.constantFrom("eur", "EURO", "EU", "€€€", "E1R", "")),
        active: fc.oneof(hostileValue, fc.constantFrom("true", "false", 0, 1)),
        stock: fc.oneof(notAnInteger, fc.constantFrom(-1, MAX_UNITS + 1)),
      },
    );
    const input = fc
      .record({ sku: skuPath, request: bodyOf(fc.oneof(productBody, hostileValue)), headers: noiseHeaders, caller })
      .filter(({ request }) => !acceptedJson(request, wouldUpsertProduct));
    await assertNoWrites(
      input,
      async ({ sku, request, headers, caller }) => {
        const answer = await send({ method: "PUT", path: `/products/${sku}`, headers, caller, ...request });
        expect(answer.status).toBeGreaterThanOrEqual(400);
      },
      250,
    );
  });

  test("when POST /products/:sku/stock gets an invalid or impossible delta, then it answers a 4xx problem and writes nothing", async () => {
    const stockBody = corrupted(
      { delta: 5 },
      { delta: fc.oneof(notAnInteger, fc.constantFrom(0, "0", MAX_UNITS, -MAX_UNITS, MAX_UNITS + 1, -(MAX_UNITS + 1), -STOCK.onHand, "2147483647")) },
    );
    const input = fc
      .record({ sku: fc.oneof({ arbitrary: fc.constant(KNOWN_SKU), weight: 3 }, { arbitrary: skuPath, weight: 1 }), request: bodyOf(fc.oneof(stockBody, hostileValue)), headers: noiseHeaders, caller })
      .filter(({ sku, request }) => sku !== KNOWN_SKU || !acceptedJson(request, wouldAdjustStock));
    await assertNoWrites(
      input,
      async ({ sku, request, headers, caller }) => {
        const answer = await send({ method: "POST", path: `/products/${sku}/stock`, headers, caller, ...request });
        expect(answer.status).toBeGreaterThanOrEqual(400);
      },
      200,
    );
  });
});

describe("order routes under hostile input", () => {
  const orderLine = corrupted(
    { sku: KNOWN_SKU, quantity: 1 },
    {
      sku: fc.oneof(hostileValue, fc.constantFrom("", "x".repeat(65), "a\u0000", KNOWN_SKU.toLowerCase(), ` ${KNOWN_SKU}`)),
      quantity: fc.oneof(notAnInteger, fc.constantFrom(0, -1, 1001, 1.5, "0", "1001", 1e21)),
    },
  );
  const orderBody = fc.oneof(
    corrupted({ items: [{ sku: KNOWN_SKU, quantity: 1 }] }, { items: fc.oneof(hostileValue, fc.array(orderLine, { minLength: 1, maxLength: 3 })) }),
    fc.array(orderLine, { minLength: 1, maxLength: 4 }).map((items) => ({ items })),
    fc.integer({ min: 51, max: 60 }).map((n) => ({ items: Array.from({ length: n }, (_, i) => ({ sku: `L${i}`, quantity: 1 })) })),
    fc.constant({ items: [{ sku: KNOWN_SKU, quantity: 1 }, { sku: KNOWN_SKU, quantity: 2 }] }),
    hostileValue,
  );

  test("when POST /orders gets an invalid body, then it answers a 4xx problem and writes nothing", async () => {
    const input = fc
      .record({ request: bodyOf(orderBody), headers: noiseHeaders, caller })
      .filter(({ request }) => !acceptedJson(request, wouldPlaceOrder));
    await assertNoWrites(
      input,
      async ({ request, headers, caller }) => {
        const answer = await send({ method: "POST", path: "/orders", headers, caller, ...request });
        expect(answer.status).toBeGreaterThanOrEqual(400);
      },
      300,
    );
  });

  test("when POST /orders carries a valid body but a junk Idempotency-Key or a non-JSON Content-Type, then it answers a 4xx problem and writes nothing", async () => {
    const badKey = fc.oneof(
      fc.integer({ min: 256, max: 4_000 }).map((n) => "k".repeat(n)),
      fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom("\t", "é", "\u00ff", "\u0080"), fc.string({ maxLength: 20 })).map(([a, c, b]) => `k${a}${c}${b}k`),
    );
    const valid = JSON.stringify({ items: [{ sku: KNOWN_SKU, quantity: 1 }] });
    const input = fc.oneof(
      fc.record({ key: badKey, contentType: fc.constantFrom(...JSON_CONTENT_TYPES), caller: fc.constantFrom<Caller>("alice", "admin") }),
      fc.record({ key: fc.constant(undefined), contentType: fc.constantFrom(...OTHER_CONTENT_TYPES), caller: fc.constantFrom<Caller>("alice", "admin") }),
    );
    await assertNoWrites(
      input,
      async ({ key, contentType, caller }) => {
        const headers: Record<string, string> = key === undefined ? {} : { "idempotency-key": key };
        const answer = await send({ method: "POST", path: "/orders", headers, caller, contentType, body: valid });
        expect(answer.status).toBeGreaterThanOrEqual(400);
      },
      100,
    );
  });

  test("when GET /orders gets junk status, limit and cursor values, then it answers 200 or a problem and writes nothing", async () => {
    const input = fc.record({ query: hostileQuery(["status", "limit", "cursor"]), headers: noiseHeaders, caller });
    await assertNoWrites(
      input,
      async ({ query, headers, caller }) => {
        const answer = await send({ method: "GET", path: `/orders?${query}`, headers, caller });
        expect([200, 401, 422]).toContain(answer.status);
      },
      150,
    );
  });

  test("when GET /orders/:id, its events, cancel or ship get any id that is no order of the caller's, then they answer a problem and write nothing", async () => {
    const input = fc.record({
      route: fc.constantFrom("", "/events", "/cancel", "/ship"),
      // Not "", "." or "..": URL parsing would turn /orders/./cancel into another route.
      id: orderIdPath.filter((id) => !/^(?:\.|%2e){0,2}$/i.test(id)),
      request: bodyOf(fc.oneof(hostileValue, fc.record({ reason: hostileString }))),
      query: hostileQuery(["status", "reason"]),
      headers: noiseHeaders,
      caller,
    });
    await assertNoWrites(
      input,
      async ({ route, id, request, query, headers, caller }) => {
        const method = route === "" || route === "/events" ? "GET" : "POST";
        const answer = await send({ method, path: `/orders/${id}${route}?${query}`, headers, caller, ...(method === "POST" ? request : {}) });
        expect(answer.status).toBeGreaterThanOrEqual(400);
      },
      200,
    );
  });

  test("when a real order gets a cancel with an invalid body, or a ship from a non-admin, then it stays as it was", async () => {
    const cancel = fc
      .record({
        route: fc.constant("/cancel"),
        request: fc.record({
          // Not a media type the shop does not read (application/xml...): such a body is ignored, like no body.
          contentType: fc.constantFrom(...JSON_CONTENT_TYPES, "text/plain", "application/octet-stream"),
          body: fc.oneof(
            malformedJsonText,
            corrupted({ reason: "changed my mind" }, { reason: fc.oneof(hostileValue, fc.constantFrom("x".repeat(501), "a\u0000b")) }).map(toJsonText),
            hostileValue.map(toJsonText),
          ),
        }),
        caller: fc.constantFrom<Caller>("alice", "admin"),
      })
      .filter(({ request }) => !wouldCancel(request.contentType, request.body));
    const ship = fc.record({
      route: fc.constant("/ship"),
      request: bodyOf(hostileValue),
      caller: fc.oneof(fc.constantFrom<Caller>("alice", "anonymous"), junkAuthorization.map((junk): Caller => ({ junk }))),
    });
    await assertNoWrites(
      fc.tuple(fc.oneof(cancel, ship), noiseHeaders),
      async ([{ route, request, caller }, headers]) => {
        const answer = await send({ method: "POST", path: `/orders/${confirmedOrderId}${route}`, headers, caller, ...request });
        expect(answer.status).toBeGreaterThanOrEqual(400);
      },
      200,
    );
  });
});

describe("notification, health, docs and unknown routes under hostile input", () => {
  test("when GET /notifications gets junk orderId, limit and cursor values, then it answers 200 or a problem and writes nothing", async () => {
    const input = fc.record({ query: hostileQuery(["orderId", "limit", "cursor"]), headers: noiseHeaders, caller });
    await assertNoWrites(
      input,
      async ({ query, headers, caller }) => {
        const answer = await send({ method: "GET", path: `/notifications?${query}`, headers, caller });
        expect([200, 401, 403, 422]).toContain(answer.status);
      },
      150,
    );
  });

  test("when health and docs get junk queries and headers, even a junk Authorization, then they still answer 200", async () => {
    const input = fc.record({
      path: fc.constantFrom("/health/live", "/health/ready", "/docs", "/docs/json"),
      query: hostileQuery(["limit", "format", "url"]),
      headers: noiseHeaders,
      caller,
    });
    await assertNoWrites(
      input,
      async ({ path, query, headers, caller }) => {
        const answer = await send({ method: "GET", path: `${path}?${query}`, headers, caller });
        expect(answer.status).toBe(200);
      },
      60,
    );
  });

  test("when a request has an unknown method or path, then it answers a 4xx problem and writes nothing", async () => {
    const input = fc.record({
      method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "TRACE"),
      path: fc.oneof(
        fc.array(hostilePathSegment, { minLength: 1, maxLength: 4 }).map((segments) => `/${segments.join("/")}`),
        fc.constantFrom("/orders/x/y/z", "/products/A/stock/extra", "/orders/", "//orders", "/ORDERS", "/health", "/docs/json/x", "/notifications/1"),
        orderIdPath.map((id) => `/orders/${id}`),
      ),
      request: bodyOf(hostileValue),
      caller,
    });
    const known = /^\/(?:orders|products|notifications|health|docs)(?:\/|$)/;
    await assertNoWrites(
      // URL parsing resolves dot segments ("/x/../orders" is "/orders"): judge the path the router will see.
      input.filter(({ method, path }) => !known.test(new URL(`http://localhost${path}`).pathname) || !["GET", "POST", "PUT"].includes(method)),
      async ({ method, path, request, caller }) => {
        const answer = await send({ method, path, caller, ...(method === "GET" ? {} : request) });
        expect(answer.status).toBeGreaterThanOrEqual(400);
      },
      120,
    );
  });
});

describe("valid bodies carrying prototype-pollution keys", () => {
  test("when a valid PUT /products body carries __proto__ and constructor keys, then it is stored without them and nothing is polluted", async () => {
    const input = fc.record({ extras: extraProperties, n: fc.integer({ min: 0, max: 1_000_000 }) });
    await fc.assert(
      fc.asyncProperty(input, async ({ extras, n }) => {
        const sku = `POLLUTE-${n}`;
        const body = toJsonText({ ...extras, name: `Polluted ${n}`, priceCents: n });
        const answer = await send({ method: "PUT", path: `/products/${sku}`, caller: "admin", contentType: "application/json", body });
        expect([200, 201]).toContain(answer.status);
        const stored = JSON.parse(answer.text) as Record<string, unknown>;
        expect(Object.keys(stored).sort()).toEqual(["active", "availability", "available", "currency", "name", "onHand", "priceCents", "reserved", "sku", "updatedAt", "version"]);
        expect(stored).toMatchObject({ sku, name: `Polluted ${n}`, priceCents: n });
      }),
      propertyParameters(25),
    );
  });
});
