import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestShop, type TestShop } from "../../test-support/shop.ts";

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

test("the document lists the module routes", () => {
  const names = operations().map((o) => o.name);
  expect(names).toEqual(expect.arrayContaining(["POST /orders", "PUT /products/{sku}", "GET /notifications", "POST /orders/{id}/ship"]));
});

test("every route documents its error answers as problem documents with X-Request-Id", () => {
  const missing: string[] = [];
  for (const { name, path, method, op } of operations()) {
    for (const status of expectedErrors(path, method, op)) {
      const answer = op.responses?.[String(status)];
      const schema = answer?.content?.["application/json"]?.schema ?? answer?.content?.["application/problem+json"]?.schema;
      if (!schema || !["type", "title", "status"].every((field) => schema.required?.includes(field))) missing.push(`${name} ${status}`);
      else if (!answer.headers?.["x-request-id"]) missing.push(`${name} ${status} X-Request-Id`);
    }
    if (!op.responses?.["503"]?.headers?.["retry-after"]) missing.push(`${name} 503 Retry-After`);
    if (op.responses?.["429"] && !op.responses["429"].headers?.["retry-after"]) missing.push(`${name} 429 Retry-After`);
  }
  expect(missing).toEqual([]);
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
