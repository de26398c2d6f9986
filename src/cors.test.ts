import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { commerce, newSku } from "./test-support/commerce.ts";
import { alice, startTestShop, tokenFor, type TestShop } from "./test-support/shop.ts";

// A storefront's browser calling a whole shop over a real socket, with two storefront origins configured.
const STOREFRONT = "https://shop.example.com";
const DEV_STOREFRONT = "http://localhost:5173";

let shop: TestShop;
let baseUrl: string;

beforeAll(async () => {
  shop = await startTestShop("cors", { CORS_ORIGINS: `${STOREFRONT}, ${DEV_STOREFRONT}` });
  shop.shop.http.listen({ port: 0, hostname: "127.0.0.1" });
  baseUrl = `http://127.0.0.1:${shop.shop.http.server!.port}`;
});
afterAll(async () => {
  await shop?.close();
});

const send = (path: string, init: RequestInit = {}) => fetch(`${baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });

/** The preflight a browser sends before a storefront's fetch("/orders", { method: "POST", headers: {...} }). */
const preflight = (origin: string) =>
  send("/orders", {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type,idempotency-key" },
  });

const listOf = (header: string | null) => (header ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
const corsHeadersOf = (res: Response) => [...res.headers.keys()].filter((name) => name.startsWith("access-control-"));

describe("CORS for configured storefront origins", () => {
  test("when a listed origin sends a preflight for POST /orders, then 204 allows that origin, POST and the requested headers, cached for CORS_MAX_AGE", async () => {
    const res = await preflight(STOREFRONT);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(STOREFRONT);
    expect(listOf(res.headers.get("access-control-allow-methods"))).toContain("post");
    expect(listOf(res.headers.get("access-control-allow-headers"))).toEqual(expect.arrayContaining(["authorization", "content-type", "idempotency-key"]));
    expect(res.headers.get("access-control-max-age")).toBe("600");
    expect(listOf(res.headers.get("vary"))).toContain("origin");
    // Credentials stay off unless CORS_CREDENTIALS=true.
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();

    // A fetch-based SSE client resuming GET /orders/:id/events sends Last-Event-ID with the token.
    const resume = await send("/orders/0195c0de-0000-7000-8000-000000000001/events", {
      method: "OPTIONS",
      headers: { origin: STOREFRONT, "access-control-request-method": "GET", "access-control-request-headers": "authorization,last-event-id" },
    });
    expect(resume.status).toBe(204);
    expect(listOf(resume.headers.get("access-control-allow-headers"))).toEqual(expect.arrayContaining(["authorization", "last-event-id"]));

    const other = await preflight(DEV_STOREFRONT);
    expect(other.headers.get("access-control-allow-origin")).toBe(DEV_STOREFRONT);
  });

  test("when an unlisted origin (or a listed host with another scheme) sends a preflight, then no Access-Control-Allow-* header answers it", async () => {
    for (const origin of ["https://evil.example.com", "http://shop.example.com", "https://shop.example.com.evil.com"]) {
      const res = await preflight(origin);
      expect({ origin, cors: corsHeadersOf(res) }).toEqual({ origin, cors: [] });
    }
  });

  test("when a listed origin GETs its orders, then the answer allows that origin and exposes the shop's own headers", async () => {
    const res = await send("/orders", { headers: { origin: STOREFRONT, authorization: `Bearer ${await tokenFor(alice)}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(STOREFRONT);
    expect(listOf(res.headers.get("access-control-expose-headers"))).toEqual(
      expect.arrayContaining(["location", "idempotent-replayed", "x-request-id", "x-correlation-id", "x-trace-id", "retry-after"]),
    );
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("when an unlisted origin GETs, then it is answered as usual but without CORS headers (the browser withholds it from the page)", async () => {
    const res = await send("/orders", { headers: { origin: "https://evil.example.com", authorization: `Bearer ${await tokenFor(alice)}` } });
    expect(res.status).toBe(200);
    expect(corsHeadersOf(res)).toEqual([]);
  });

  test("when a listed origin POSTs without a token, then the 401 problem carries the CORS headers so the storefront can read it", async () => {
    const res = await send("/orders", { method: "POST", headers: { origin: STOREFRONT, "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("access-control-allow-origin")).toBe(STOREFRONT);
    expect(listOf(res.headers.get("access-control-expose-headers"))).toContain("x-request-id");
  });

  test("when a listed origin asks for a route that does not exist, then the 404 problem carries the CORS headers too", async () => {
    const res = await send("/nowhere", { headers: { origin: STOREFRONT } });
    expect(res.status).toBe(404);
    expect(res.headers.get("access-control-allow-origin")).toBe(STOREFRONT);
  });
});

describe("CORS on the live status stream", () => {
  test("when a listed origin opens an order's event stream, then the stream itself allows that origin and exposes the shop's headers", async () => {
    const api = commerce(shop);
    const sku = newSku("cors-sse");
    await api.createProduct(sku, 5);
    await api.ordersKnow(sku, {});
    const order = await api.placeOk(alice, [{ sku, quantity: 1 }]);
    const abort = new AbortController();

    const res = await fetch(`${baseUrl}/orders/${order.id}/events`, {
      headers: { origin: STOREFRONT, authorization: `Bearer ${await tokenFor(alice)}` },
      signal: abort.signal,
    });

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    expect(res.headers.get("access-control-allow-origin")).toBe(STOREFRONT);
    expect(listOf(res.headers.get("access-control-expose-headers"))).toContain("x-request-id");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    abort.abort();
  });
});
