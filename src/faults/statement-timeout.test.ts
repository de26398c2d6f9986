import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { commerce, json, newSku } from "../test-support/commerce.ts";
import { admin, startTestShop, type TestShop } from "../test-support/shop.ts";

// A request must not wait on the database for ever: a statement stuck behind a lock (or an overloaded server)
// ends after DATABASE_STATEMENT_TIMEOUT_MS with a 503 the client can retry, and the connection serves again.
let shop: TestShop;
let c: ReturnType<typeof commerce>;
let other: postgres.Sql;

beforeAll(async () => {
  shop = await startTestShop("stmt_timeout", { DATABASE_STATEMENT_TIMEOUT_MS: "400", DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: "2000" });
  c = commerce(shop);
  other = postgres(shop.database.url, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await other?.end({ timeout: 5 });
  await shop?.close();
});

describe("statement timeout", () => {
  test("when a product row is locked by another session, then PUT /products answers 503 with Retry-After after the statement timeout, changes nothing, and succeeds once the lock is gone", async () => {
    const sku = newSku("LOCKED");
    await c.createProduct(sku, 5, 1000);
    const update = () =>
      shop.request(`/products/${sku}`, { method: "PUT", as: admin, json: { name: "Renamed", priceCents: 1200, currency: "EUR", stock: 5 } });

    const release = Promise.withResolvers<void>();
    const locked = Promise.withResolvers<void>();
    const holder = other.begin(async (tx) => {
      await tx`lock table inventory.products in access exclusive mode`;
      locked.resolve();
      await release.promise;
    });
    await locked.promise;
    const started = performance.now();
    const res = await update();
    const waited = performance.now() - started;
    release.resolve();
    await holder;

    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(waited).toBeLessThan(10_000);
    expect(await c.product(sku)).toMatchObject({ name: `Product ${sku}`, priceCents: 1000 });

    const retried = await update();
    expect(retried.status).toBe(200);
    expect(await json<{ priceCents: number }>(retried)).toMatchObject({ priceCents: 1200 });
  });

  test("the shop's connections carry the configured statement and idle-in-transaction timeouts", async () => {
    const [settings] = await shop.shop.databaseOf("orders").sql<{ statement: string; idle: string }[]>`
      select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`;
    expect(settings).toEqual({ statement: "400ms", idle: "2s" });
  });
});
