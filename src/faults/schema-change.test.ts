import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TEST_AMQP_URL } from "../test-support/broker.ts";
import { eventually } from "../test-support/eventually.ts";
import { createFaultFixture, createProducts, newCustomers, type FaultFixture } from "../test-support/fault-fixture.ts";
import { httpRequest, runCli, spawnShop } from "../test-support/process.ts";
import { countDeadLetters } from "../platform/messaging/dead-letters.ts";

// The shop keeps its hot statements prepared on every connection. A migration that changes the type of a column
// those statements return, applied while an instance runs, makes PostgreSQL refuse the cached plans ("cached plan
// must not change result type"). Each stale statement fails once per connection and is prepared afresh on its
// next use: a request answers 503 with Retry-After (never a 500, never a hang) and its retry succeeds; a message
// is retried without spending an attempt, so nothing is parked.
let fixture: FaultFixture;

beforeAll(async () => {
  fixture = await createFaultFixture("schema_change");
});
afterAll(async () => {
  await fixture?.close();
});

describe("a column type changed under a running instance", () => {
  test(
    "when a migration changes the type of columns the prepared statements return, then a request answers at worst a retryable 503 once per connection, every retry succeeds, every order is confirmed and nothing is parked",
    async () => {
      const shop = await spawnShop(fixture.env());
      const stock = await createProducts(fixture, shop.baseUrl, "SCHEMA", 2, 1000);
      const [sku] = Object.keys(stock) as [string];
      const [customer] = newCustomers("schema", 1) as [NonNullable<ReturnType<typeof newCustomers>[number]>];
      const place = async () => {
        const res = await retried(() => httpRequest(shop.baseUrl, "/orders", { method: "POST", as: customer, json: { items: [{ sku, quantity: 1 }] } }));
        expect(res.status).toBe(201);
        return ((await res.json()) as { id: string }).id;
      };
      // Retries a 503 (with Retry-After) as a client would; anything else is the answer. Every other status counts.
      const unavailable: number[] = [];
      const retried = async (request: () => Promise<Response>) => {
        for (let attempt = 1; ; attempt++) {
          const res = await request();
          if (res.status !== 503 || attempt > 12) return res;
          expect(res.headers.get("retry-after")).toBeTruthy();
          unavailable.push(res.status);
          await res.body?.cancel();
        }
      };
      const statusOf = async (id: string) => (await fixture.sql<{ status: string }[]>`select status from orders.orders where id = ${id}`)[0]?.status;

      // Warm every pool connection's statements: reads, placements and the whole saga.
      const before = await Promise.all(Array.from({ length: 20 }, place));
      for (const id of before) await eventually(() => statusOf(id), { accept: (s) => s === "confirmed", what: `order ${id} confirmed` });
      for (let i = 0; i < 20; i++) {
        expect((await httpRequest(shop.baseUrl, `/orders/${before[i]}`, { as: customer })).status).toBe(200);
        expect((await httpRequest(shop.baseUrl, `/products/${sku}`)).status).toBe(200);
      }
      expect(unavailable).toEqual([]);

      // What a later migration might do: widen columns that GET /orders/:id, GET /products/:sku, the catalog
      // lookup of POST /orders and the confirmation handler all return.
      await fixture.sql.unsafe(`
        alter table orders.orders alter column customer_email type varchar(320);
        alter table orders.catalog alter column name type varchar(300);
        alter table inventory.products alter column name type varchar(300);`);

      const reads = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => [
          (await retried(() => httpRequest(shop.baseUrl, `/orders/${before[i]}`, { as: customer }))).status,
          (await retried(() => httpRequest(shop.baseUrl, `/products/${sku}`))).status,
        ]),
      );
      expect(reads.flat().filter((status) => status !== 200)).toEqual([]);
      // At most once per connection and statement (pool of 10 connections; three statement kinds read here).
      expect(unavailable.length).toBeLessThanOrEqual(40);
      const after = await Promise.all(Array.from({ length: 20 }, place));
      for (const id of after) {
        await eventually(() => statusOf(id), { accept: (s) => s === "confirmed", what: `order ${id} confirmed after the schema change` });
      }
      const order = (await (await retried(() => httpRequest(shop.baseUrl, `/orders/${after[0]}`, { as: customer }))).json()) as { customerId: string };
      expect(order.customerId).toBe(customer.sub);
      for (const module of ["orders", "inventory", "notification"]) {
        expect({ module, parked: await countDeadLetters({ amqpUrl: TEST_AMQP_URL, prefix: fixture.prefix, module }) }).toEqual({ module, parked: 0 });
      }
      console.log(`[fault figures] schema change under a running shop: 503 answers before a retry succeeded ${unavailable.length}`);
      const check = await runCli(["check", "--settle", "0s"], fixture.env(), 30_000);
      expect({ code: check.code, report: check.stdout.trim() }).toMatchObject({ code: 0 });
      expect(await shop.stop()).toBe(0);
    },
    90_000,
  );
});
