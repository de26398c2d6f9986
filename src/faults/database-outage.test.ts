import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../test-support/eventually.ts";
import {
  consumerChecks,
  createFaultFixture,
  createProducts,
  newCustomers,
  readinessEventually,
  throughProxy,
  type FaultFixture,
} from "../test-support/fault-fixture.ts";
import { httpRequest, spawnShop, type ShopProcess } from "../test-support/process.ts";
import { assertSettled } from "../test-support/settlement.ts";
import { admin } from "../test-support/shop.ts";

// PostgreSQL goes away (the app reaches it through a TCP proxy): requests fail fast with a 503 problem that
// says nothing about SQL, readiness names postgres, events being handled at that moment are kept, and the
// process recovers by itself when the database is back.
let fixture: FaultFixture;

beforeAll(async () => {
  fixture = await createFaultFixture("db_outage");
});
afterAll(async () => {
  await fixture?.close();
});

/** Leaks a failed request must never show: SQL, driver messages, stack frames. */
const LEAKS = [/select/i, /insert/i, /from "/i, /Failed query/i, /postgres/i, /ECONN/i, /CONNECTION_/, / {4}at /, /\.ts:\d+/];

async function placeOrder(shop: ShopProcess, as: { sub: string; email: string; role: "customer" }, sku: string): Promise<Response> {
  return httpRequest(shop.baseUrl, "/orders", { method: "POST", as, json: { items: [{ sku, quantity: 1 }] }, signal: AbortSignal.timeout(15_000) });
}

describe("PostgreSQL outage", () => {
  test(
    "when PostgreSQL is unreachable, then requests answer a 503 problem within 6 s without SQL or stack, readiness names postgres, events being handled are kept, and the app recovers by itself",
    async () => {
      const proxy = await fixture.proxy("postgres");
      // Warnings and errors logged: if the stop after the outage fails, its log lines say why.
      const shop = await spawnShop(fixture.env({ DATABASE_URL: throughProxy(fixture.database.url, proxy), LOG_LEVEL: "warn" }));
      const stock = await createProducts(fixture, shop.baseUrl, "DBO", 2, 50);
      const skus = Object.keys(stock);
      const [customer] = newCustomers("dbo", 1) as [{ sub: string; email: string; role: "customer" }];
      const accepted: string[] = [];
      let placed = 0;
      const place = async (sku: string) => {
        placed++;
        const res = await placeOrder(shop, customer, sku);
        expect(res.status).toBe(201);
        const { id } = (await res.json()) as { id: string };
        accepted.push(id);
        return id;
      };
      const statusOf = async (id: string) => (await fixture.sql<{ status: string }[]>`select status from orders.orders where id = ${id}`)[0]?.status;

      const first = await place(skus[0]!);
      await eventually(() => statusOf(first), { accept: (s) => s === "confirmed", what: "the first order's confirmation" });

      // Events in the middle of being handled when the database goes: inventory's handler transaction waits on
      // the products' row locks (held here, on a direct connection) with a batch of them, and the rest wait
      // for that batch in the consumer.
      const release = Promise.withResolvers<void>();
      const locked = Promise.withResolvers<void>();
      const locking = fixture.sql.begin(async (tx) => {
        await tx`select sku from inventory.products where sku = any(${skus}) for update`;
        locked.resolve();
        await release.promise;
      });
      await locked.promise;
      const inFlight: string[] = [];
      for (let i = 0; i < 6; i++) inFlight.push(await place(skus[i % 2]!));
      await eventually(
        async () =>
          (await fixture.sql<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where datname = ${fixture.database.name} and wait_event_type = 'Lock' and application_name like 'shop:%'`)[0]!.n,
        { accept: (n) => n >= 1, what: "inventory's handler transaction to wait on the locked products" },
      );

      const outage = performance.now();
      proxy.down();
      release.resolve();
      await locking;

      // Every kind of request fails fast, as a problem document that leaks nothing.
      const probes: Array<[string, () => Promise<Response>]> = [
        ["GET /orders/:id", () => httpRequest(shop.baseUrl, `/orders/${first}`, { as: customer, signal: AbortSignal.timeout(15_000) })],
        ["POST /orders", () => placeOrder(shop, customer, skus[0]!)],
        ["GET /products", () => httpRequest(shop.baseUrl, "/products", { signal: AbortSignal.timeout(15_000) })],
        ["PUT /products/:sku", () => httpRequest(shop.baseUrl, `/products/${skus[0]}`, { method: "PUT", as: admin, json: { name: "Renamed", priceCents: 300 }, signal: AbortSignal.timeout(15_000) })],
      ];
      const timings: Record<string, number> = {};
      for (const [what, probe] of probes) {
        const started = performance.now();
        const res = await probe();
        const body = await res.text();
        timings[what] = Math.round(performance.now() - started);
        expect({ what, status: res.status, type: res.headers.get("content-type") }).toEqual({ what, status: 503, type: "application/problem+json" });
        expect(res.headers.get("retry-after")).toBeTruthy();
        expect(timings[what]).toBeLessThan(6_000);
        expect(JSON.parse(body)).toMatchObject({ status: 503 });
        for (const leak of LEAKS) expect({ what, body, leaks: leak.test(body) }).toEqual({ what, body, leaks: false });
      }
      const down = await readinessEventually(shop, (r) => r.status === 503, "readiness to report the outage", 10_000);
      expect(down).toEqual({ status: 503, state: "unavailable", checks: { postgres: "down", rabbitmq: "up", ...consumerChecks("up") } });
      // Long enough for the consumers to go round the retry queue several times with the database away.
      await Bun.sleep(Math.max(0, 3_000 - (performance.now() - outage)));
      const outageMs = performance.now() - outage;
      proxy.restore();

      // Back by itself: no restart.
      await readinessEventually(shop, (r) => r.state === "ok", "readiness once PostgreSQL is back", 20_000);
      const after = await place(skus[1]!);
      await eventually(() => statusOf(after), { accept: (s) => s === "confirmed", timeoutMs: 15_000, what: "an order placed after the outage to be confirmed" });
      // The events that were being handled when the database went are applied once it is back.
      const recoveredAt = performance.now();
      await eventually(async () => (await fixture.sql<{ status: string }[]>`select status from orders.orders where id = any(${inFlight}::uuid[])`).map((s) => s.status), {
        accept: (statuses) => statuses.length === inFlight.length && statuses.every((s) => s === "confirmed"),
        timeoutMs: 15_000,
        what: "the orders whose events were in their handlers during the outage to be confirmed",
      });
      const inFlightSettledMs = Math.round(performance.now() - recoveredAt);

      // Nothing parked in a DLQ because of the outage (assertSettled checks every DLQ is empty).
      await assertSettled({
        label: "database outage",
        sqlOf: fixture.sqlOf,
        env: fixture.env(),
        prefix: fixture.prefix,
        acceptedIds: accepted,
        placed,
        initialStock: stock,
        faults: `postgres down ×1 (${(outageMs / 1000).toFixed(1)} s) with ${inFlight.length} orders' events in their handlers`,
        extra: { "503 answer times (ms)": timings, "in-flight orders confirmed after recovery (ms)": inFlightSettledMs },
      });
      expect(shop.proc.exitCode).toBeNull();
      const code = await shop.stop();
      // On a failed stop, the shop's last lines say why (shutdown timed out, or which step threw).
      expect({ code, lastLines: code === 0 ? [] : shop.stdout().trim().split("\n").slice(-6) }).toEqual({ code: 0, lastLines: [] });
    },
    60_000,
  );
});
