import { afterAll, beforeAll, expect, test } from "bun:test";
import { alice, startTestShop, type TestShop } from "../../test-support/shop.ts";

// Every operation the shop serves documents the error answers a client can meet, as problem documents with
// X-Request-Id, and the rate-limited routes their 429 with Retry-After. The health routes are exempt: they read no
// input, need no token, and their 503 is their own readiness document (documented there), not a problem.

let shop: TestShop;
let doc: any;

beforeAll(async () => {
  shop = await startTestShop("openapi_completeness");
  doc = await (await shop.request("/docs/json")).json();
});

afterAll(async () => {
  await shop?.close();
});

const EXEMPT = new Set(["/health/live", "/health/ready", "/metrics"]);
const RATE_LIMITED = new Set(["POST /orders", "GET /products", "GET /products/{sku}"]);

function operations(): { name: string; path: string; method: string; op: any }[] {
  return Object.entries(doc.paths as Record<string, Record<string, any>>)
    .filter(([path]) => !EXEMPT.has(path))
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, method, op })));
}

function expectedErrors(path: string, method: string, op: any): number[] {
  const statuses = [500, 503];
  if (RATE_LIMITED.has(`${method.toUpperCase()} ${path}`)) statuses.push(429);
  const hasBody = op.requestBody !== undefined;
  if (hasBody) statuses.push(400, 413);
  if (op.security?.length) statuses.push(401);
  if (/\(admin\)/.test(op.summary ?? "")) statuses.push(403);
  // PUT creates what it does not find: no 404.
  if (path.includes("{") && method !== "put") statuses.push(404);
  if (hasBody || op.parameters?.length) statuses.push(422);
  return statuses.sort();
}

test("the shop serves its events' AsyncAPI document next to it, with its AMQP_PREFIX, and does not list it as an operation", async () => {
  const res = await shop.request("/docs/asyncapi.json");
  expect(res.status).toBe(200);
  const events: any = await res.json();
  // Its content is checked against the contracts in src/events-document.test.ts; here, that the shop serves it for itself.
  expect(events.asyncapi).toBe("3.0.0");
  expect(Object.keys(events.channels)).toContain("orders.order-placed");
  for (const channel of Object.values<any>(events.channels)) expect(channel.bindings.amqp.exchange.name).toBe(`${shop.prefix}events`);
  expect(doc.paths["/docs/asyncapi.json"]).toBeUndefined();
});

test("the document lists the module routes", () => {
  const names = operations().map((o) => o.name);
  expect(names).toEqual(expect.arrayContaining(["POST /orders", "PUT /products/{sku}", "GET /notifications", "POST /orders/{id}/ship"]));
});

test("every route documents its error answers as problem documents with X-Request-Id", () => {
  const missing: string[] = [];
  for (const { name, path, method, op } of operations()) {
    for (const status of expectedErrors(path, method, op)) {
      const answer = op.responses?.[String(status)];
      const schema = answer?.content?.["application/problem+json"]?.schema;
      if (!schema || !["type", "title", "status"].every((field) => schema.required?.includes(field))) missing.push(`${name} ${status}`);
      else if (!answer.headers?.["x-request-id"]) missing.push(`${name} ${status} X-Request-Id`);
    }
    if (!op.responses?.["503"]?.headers?.["retry-after"]) missing.push(`${name} 503 Retry-After`);
    if (op.responses?.["429"] && !op.responses["429"].headers?.["retry-after"]) missing.push(`${name} 429 Retry-After`);
  }
  expect(missing).toEqual([]);
});

test("every request body documents its JSON schema and an example made of its fields", () => {
  const bodies = operations().filter(({ op }) => op.requestBody !== undefined);
  expect(bodies.map((b) => b.name)).toEqual(expect.arrayContaining(["POST /orders", "POST /orders/{id}/cancel", "PUT /products/{sku}"]));
  const missing: string[] = [];
  for (const { name, op } of bodies) {
    const media = op.requestBody.content?.["application/json"];
    if (!media?.schema?.properties) missing.push(`${name} schema`);
    else if (media.example === undefined) missing.push(`${name} example`);
    else if (!Object.keys(media.example).every((field) => field in media.schema.properties)) missing.push(`${name} example fields`);
    if (Object.keys(op.requestBody.content ?? {}).length !== 1) missing.push(`${name} media types ${Object.keys(op.requestBody.content ?? {})}`);
  }
  expect(missing).toEqual([]);
  // The cancel body may be left out; the others may not.
  expect(doc.paths["/orders/{id}/cancel"].post.requestBody.required).toBe(false);
  expect(doc.paths["/orders"].post.requestBody.required).toBe(true);
});

test("the documented request example is accepted as it stands", async () => {
  const example = doc.paths["/orders"].post.requestBody.content["application/json"].example;
  // The example's sku is not in this empty catalog: refused for that (422 UNKNOWN_SKU), not for its shape.
  const res = await shop.request("/orders", { method: "POST", as: alice, json: example });
  expect(res.status).toBe(422);
  expect(((await res.json()) as { code: string }).code).toBe("ORDERS.UNKNOWN_SKU");
});

test("every success answer documents X-Request-Id, and the headers a client acts on", () => {
  const missing: string[] = [];
  for (const { name, op } of operations()) {
    for (const [status, answer] of Object.entries(op.responses ?? {}) as [string, any][]) {
      if (!answer.headers?.["x-request-id"]) missing.push(`${name} ${status} X-Request-Id`);
    }
  }
  expect(missing).toEqual([]);
  const placed = doc.paths["/orders"].post.responses["201"].headers;
  expect(Object.keys(placed)).toEqual(expect.arrayContaining(["location", "idempotent-replayed"]));
});
