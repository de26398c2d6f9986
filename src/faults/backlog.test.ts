import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../test-support/eventually.ts";
import { createFaultFixture, createProducts, newCustomers, printFigures, readiness, type FaultFixture, type Readiness } from "../test-support/fault-fixture.ts";
import { placeOrders } from "../test-support/order-load.ts";
import { httpRequest, spawnShop } from "../test-support/process.ts";

// Background work must not starve requests. Inventory and notification stay away while orders takes 1,500
// orders, so their events pile up in the queues (several thousand deliveries with the saga's later hops).
// Then the whole shop starts on that backlog, and a storefront's reads and a load balancer's readiness probe
// run while it drains: reads stay fast and readiness never flaps.
let fixture: FaultFixture;
const ORDERS = 1_500;

beforeAll(async () => {
  fixture = await createFaultFixture("backlog");
});
afterAll(async () => {
  await fixture?.close();
});

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe("a backlog of events", () => {
  test("when the shop starts on a backlog of 1,500 placed orders, then GET /products keeps p99 under 500 ms and readiness stays 200 while every order is confirmed", async () => {
    const setup = await spawnShop(fixture.env());
    const stock = await createProducts(fixture, setup.baseUrl, "BACKLOG", 10, 10_000);
    await setup.stop("SIGTERM");

    const ordersOnly = await spawnShop(fixture.env({ MODULES: "orders" }));
    const load = placeOrders({ baseUrl: ordersOnly.baseUrl, count: ORDERS, concurrency: 16, customers: newCustomers("backlog", 20), skus: Object.keys(stock) });
    const report = await load.done;
    expect(report.accepted.length).toBe(ORDERS);
    await eventually(async () => (await fixture.sql<{ n: number }[]>`select count(*)::int as n from orders.outbox where sent_at is null`)[0]!.n, {
      accept: (n) => n === 0,
      what: "every OrderPlaced to be in RabbitMQ",
    });
    await ordersOnly.stop("SIGTERM");

    const shop = await spawnShop(fixture.env());
    const pending = async () => (await fixture.sql<{ n: number }[]>`select count(*)::int as n from orders.orders where status = 'pending'`)[0]!.n;
    const reads: number[] = [];
    const probes: Array<Readiness & { at: number }> = [];
    let draining = true;
    const reader = async () => {
      while (draining) {
        const started = performance.now();
        const res = await httpRequest(shop.baseUrl, "/products?limit=20");
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        reads.push(performance.now() - started);
      }
    };
    const prober = async () => {
      while (draining) {
        probes.push({ ...(await readiness(shop.baseUrl)), at: Math.round(performance.now() - started) });
        await Bun.sleep(50);
      }
    };
    // Started when it says it is ready (connected, consuming): from then on it must stay so.
    await eventually(() => readiness(shop.baseUrl), { accept: (r) => r.state === "ok", what: "the shop to be ready" });
    const started = performance.now();
    const clients = [reader(), reader(), reader(), reader(), prober()];
    await eventually(pending, { accept: (n) => n === 0, what: "every order to be final", timeoutMs: 120_000, intervalMs: 200 });
    const drainedMs = performance.now() - started;
    draining = false;
    await Promise.all(clients);

    const p99 = percentile(reads, 99);
    printFigures("backlog", { orders: ORDERS, drainedMs: Math.round(drainedMs), reads: reads.length, readP50: Math.round(percentile(reads, 50)), readP99: Math.round(p99), probes: probes.length });
    expect(reads.length).toBeGreaterThan(50);
    expect(p99).toBeLessThan(500);
    expect(probes.filter((probe) => probe.status !== 200 || probe.state !== "ok")).toEqual([]);
    const [row] = await fixture.sql<{ confirmed: number }[]>`select count(*)::int as confirmed from orders.orders where status = 'confirmed'`;
    expect(row?.confirmed).toBe(ORDERS);
  });
});
