import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TEST_AMQP_URL } from "../test-support/broker.ts";
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
import { attemptsDuring, placeOrders, shipAndCancel } from "../test-support/order-load.ts";
import { spawnShop } from "../test-support/process.ts";
import { assertSettled } from "../test-support/settlement.ts";

// RabbitMQ goes away under load (the app reaches it through a TCP proxy): orders keep being accepted —
// their events wait in the outbox — readiness says so, and once the broker is back everything settles.
let fixture: FaultFixture;

beforeAll(async () => {
  fixture = await createFaultFixture("broker_outage");
});
afterAll(async () => {
  await fixture?.close();
});

describe("RabbitMQ outage under load", () => {
  test(
    "when RabbitMQ refuses every connection for 3 s during a stream of orders, then every order is still accepted, readiness reports rabbitmq down, and afterwards every order is final with stock exactly consistent",
    async () => {
      const proxy = await fixture.proxy("rabbitmq");
      const shop = await spawnShop(fixture.env({ AMQP_URL: throughProxy(TEST_AMQP_URL, proxy) }));
      await readinessEventually(shop, (r) => r.state === "ok", "the shop to be ready");
      const stock = await createProducts(fixture, shop.baseUrl, "BRK-DOWN", 3, 40);
      const load = placeOrders({ baseUrl: shop.baseUrl, count: 10_000, concurrency: 3, customers: newCustomers("brk", 5), skus: Object.keys(stock), pauseMs: 40 });

      await load.answered(20);
      // Eight confirmed orders to ship and cancel during the outage (how many are confirmed after 20 answers
      // depends only on how fast placement is compared with the saga).
      await eventually(
        async () => (await fixture.sql<{ n: number }[]>`
          select count(*)::int as n from orders.orders where id = any(${load.report.accepted}::uuid[]) and status = 'confirmed'`)[0]!.n,
        { accept: (n) => n >= 8, what: "eight confirmed orders before the outage" },
      );
      const outage = { from: performance.now(), to: 0 };
      proxy.down();
      // Still ready for the load balancer: orders go into the outbox meanwhile.
      const down = await readinessEventually(shop, (r) => r.checks.rabbitmq === "down", "readiness to report the outage", 10_000);
      expect(down).toEqual({ status: 200, state: "degraded", checks: { postgres: "up", rabbitmq: "down", ...consumerChecks("down") } });
      // Shipping and cancelling go on too: their events wait in the outbox with the orders'.
      const changes = await shipAndCancel(shop.baseUrl, fixture.sql, load.report.accepted, { ship: 4, cancel: 4 });
      expect(changes.answers).toEqual({ "200": 8 });
      await Bun.sleep(Math.max(0, 3_000 - (performance.now() - outage.from)));
      outage.to = performance.now();
      proxy.restore();
      await readinessEventually(shop, (r) => r.state === "ok", "readiness once RabbitMQ is back", 20_000);
      await load.answered(load.report.attempts.length + 20);
      const report = await load.stop();

      const during = attemptsDuring(report, outage);
      expect(during.length).toBeGreaterThan(10);
      // Every POST /orders answered 201, during the outage too.
      expect(report.statuses).toEqual({ "201": report.attempts.length });
      await assertSettled({
        label: "broker outage (down 3 s)",
        sqlOf: fixture.sqlOf,
        env: fixture.env(),
        prefix: fixture.prefix,
        acceptedIds: report.accepted,
        placed: report.attempts.length,
        initialStock: stock,
        faults: `rabbitmq down ×1 (${((outage.to - outage.from) / 1000).toFixed(1)} s)`,
        extra: { "placed during the outage": during.length, "shipped/cancelled during the outage": `${changes.shipped.length}/${changes.cancelled.length}` },
      });
      expect(await shop.stop()).toBe(0);
    },
    60_000,
  );

  test(
    "when every RabbitMQ connection is cut 4 times during a stream of orders (reconnecting at once), then every order is accepted and every one is final with stock exactly consistent",
    async () => {
      const proxy = await fixture.proxy("rabbitmq");
      const shop = await spawnShop(fixture.env({ AMQP_URL: throughProxy(TEST_AMQP_URL, proxy) }));
      await readinessEventually(shop, (r) => r.state === "ok", "the shop to be ready");
      const stock = await createProducts(fixture, shop.baseUrl, "BRK-CUT", 3, 40);
      const load = placeOrders({ baseUrl: shop.baseUrl, count: 10_000, concurrency: 3, customers: newCustomers("cut", 5), skus: Object.keys(stock), pauseMs: 40 });

      await load.answered(15);
      const CUTS = 4;
      let reconnects = 0;
      for (let i = 0; i < CUTS; i++) {
        const before = load.report.attempts.length;
        proxy.cut();
        // Back by itself: the next cut hits a connection that was re-established (topology, channels, consumers).
        await readinessEventually(shop, (r) => r.state === "ok" && proxy.connections > 0, `reconnection after cut ${i + 1}`, 15_000);
        reconnects++;
        await load.answered(before + 10);
      }
      await load.answered(load.report.attempts.length + 10);
      const report = await load.stop();

      expect(report.statuses).toEqual({ "201": report.attempts.length });
      await assertSettled({
        label: "broker connections cut",
        sqlOf: fixture.sqlOf,
        env: fixture.env(),
        prefix: fixture.prefix,
        acceptedIds: report.accepted,
        placed: report.attempts.length,
        initialStock: stock,
        faults: `rabbitmq connections cut ×${CUTS}`,
        extra: { reconnects },
      });
      expect(await shop.stop()).toBe(0);
    },
    60_000,
  );
});
