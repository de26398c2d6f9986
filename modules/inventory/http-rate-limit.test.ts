import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { AnyElysia } from "elysia";
import { createAuthenticator } from "../../src/platform/http/authenticator.ts";
import { createHttpApp } from "../../src/platform/http/server.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createMetricsRegistry } from "../../src/platform/metrics/registry.ts";
import { createTestDatabase, type TestDatabase } from "../../src/test-support/database.ts";
import { givenProduct, openInventory, TEST_AUTH_SECRET, type InventoryHarness } from "./test-support/inventory-harness.ts";

// The public catalog routes' limit per client address, over real sockets (the address is the socket's peer), with a
// clock the test advances. Each test gets a shop of its own (fresh limits)
// listening on every address, so it can be called from two: 127.0.0.1 and ::1.

let testDatabase: TestDatabase;
let sku: string;
let clock = 5_000_000;
const running: { app: AnyElysia; inventory: InventoryHarness }[] = [];

beforeAll(async () => {
  testDatabase = await createTestDatabase("inventory_rate_limit");
  const inventory = await openInventory(testDatabase.url);
  sku = await givenProduct(inventory, { onHand: 5 });
  await inventory.close();
});

afterEach(async () => {
  for (const { app, inventory } of running.splice(0)) {
    await app.server?.stop(true);
    await inventory.close();
  }
});

afterAll(async () => {
  await testDatabase?.drop();
});

/** Serves the catalog with 3 requests a minute per address (unless told); returns a GET from IPv4 (default) or IPv6 loopback. */
async function serve(options: { perMinute?: number; trustedProxyHeader?: string } = {}) {
  const { perMinute = 3, trustedProxyHeader } = options;
  const inventory = await openInventory(testDatabase.url, { publicRateLimit: { perMinute, now: () => clock }, clientAddress: { trustedProxyHeader } });
  const app = createHttpApp({ logger: createLogger("silent"), authenticator: createAuthenticator({ secret: TEST_AUTH_SECRET }), readiness: {}, metrics: createMetricsRegistry() }).use(
    inventory.module.routes!,
  );
  running.push({ app, inventory });
  app.listen({ port: 0, hostname: "::" });
  const port = app.server!.port;
  return (path: string, options: { headers?: Record<string, string>; from?: "ipv4" | "ipv6" } = {}) =>
    fetch(`http://${options.from === "ipv6" ? "[::1]" : "127.0.0.1"}:${port}${path}`, { headers: options.headers });
}

const statusesOf = async (answers: Promise<Response>[]) => (await Promise.all(answers)).map((res) => res.status);

describe("rate limit per client address on GET /products and GET /products/:sku", () => {
  test("when an address makes more catalog requests a minute than allowed, then 429 problem+json with Retry-After; health and metrics still answer", async () => {
    const get = await serve();
    expect(await statusesOf([get("/products"), get(`/products/${sku}`), get("/products?limit=1")])).toEqual([200, 200, 200]);

    const res = await get(`/products/${sku}`);

    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("retry-after")).toBe("20");
    expect(await res.json()).toMatchObject({ status: 429, code: "RATE_LIMITED", retryAfterSeconds: 20, instance: `/products/${sku}` });
    expect(await statusesOf([get("/health/live"), get("/health/ready"), get("/metrics")])).toEqual([200, 200, 200]);
  });

  test("when one address is over the limit, then another address is not, and the first passes again once Retry-After has passed", async () => {
    const get = await serve();
    expect(await statusesOf([get("/products"), get("/products"), get("/products"), get("/products")])).toEqual([200, 200, 200, 429]);

    expect((await get("/products", { from: "ipv6" })).status).toBe(200);

    clock += 20_000 - 1;
    expect((await get("/products")).status).toBe(429);
    clock += 1;
    expect((await get("/products")).status).toBe(200);
  });

  test("when the limit is 0, then the catalog is not limited", async () => {
    const get = await serve({ perMinute: 0 });
    expect(await statusesOf(Array.from({ length: 10 }, () => get("/products")))).toEqual(Array(10).fill(200));
  });
});

describe("client address behind a proxy", () => {
  test("when no proxy header is trusted, then X-Forwarded-For and X-Real-IP change nothing: the socket's address is counted", async () => {
    const get = await serve();
    const spoofed = (n: number) => ({ "x-forwarded-for": `203.0.113.${n}`, "x-real-ip": `198.51.100.${n}` });
    expect(await statusesOf([1, 2, 3, 4].map((n) => get("/products", { headers: spoofed(n) })))).toEqual([200, 200, 200, 429]);
  });

  test("when X-Forwarded-For is trusted, then the entry the proxy appended (rightmost) is the client; what the client wrote to its left is not", async () => {
    const get = await serve({ trustedProxyHeader: "x-forwarded-for" });
    const via = (claimed: string, seen: string) => ({ headers: { "x-forwarded-for": `${claimed}, ${seen}` } });
    const answers = [1, 2, 3, 4].map((n) => get("/products", via(`203.0.113.${n}`, "192.0.2.10")));
    expect(await statusesOf(answers)).toEqual([200, 200, 200, 429]);

    // Another client behind the same proxy, and the proxy's own socket address (127.0.0.1), each have their own budget.
    expect((await get("/products", via("203.0.113.1", "192.0.2.11"))).status).toBe(200);
    expect((await get("/products")).status).toBe(200);
  });

  test("when the trusted header is missing or holds no address, then the socket's address is counted", async () => {
    const get = await serve({ trustedProxyHeader: "x-real-ip" });
    const answers = [get("/products"), get("/products", { headers: { "x-real-ip": "not-an-address" } }), get("/products", { headers: { "x-real-ip": "" } })];
    expect(await statusesOf(answers)).toEqual([200, 200, 200]);
    expect((await get("/products", { headers: { "x-real-ip": "<script>" } })).status).toBe(429);
    expect((await get("/products", { headers: { "x-real-ip": "2001:db8::1" } })).status).toBe(200);
  });
});
