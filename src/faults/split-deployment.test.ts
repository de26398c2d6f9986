import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createFaultFixture, createProducts, newCustomers, unfinishedWork, type FaultFixture } from "../test-support/fault-fixture.ts";
import { answers, placeOrders, type LoadReport } from "../test-support/order-load.ts";
import { spawnShop, type ShopProcess } from "../test-support/process.ts";
import { assertSettled } from "../test-support/settlement.ts";

// The same binary split over two processes — orders in one, inventory and notification in the other — and one
// side SIGKILLed under load and started again: the other side does not notice beyond a delay.
let fixture: FaultFixture;

beforeAll(async () => {
  fixture = await createFaultFixture("split_crash");
});
afterAll(async () => {
  await fixture?.close();
});

const ORDERS = "orders";
const CATALOG = "inventory,notification";
const start = (modules: string) => spawnShop(fixture.env({ MODULES: modules }));

async function kill(process: ShopProcess): Promise<void> {
  process.proc.kill("SIGKILL");
  expect(await process.exited).not.toBe(0);
}

describe("split deployment", () => {
  test(
    "when the inventory+notification process is SIGKILLed under load and restarted, then the orders process keeps accepting every order and every one settles with stock exactly consistent",
    async () => {
      const [orders, first] = await Promise.all([start(ORDERS), start(CATALOG)]);
      const stock = await createProducts(fixture, first.baseUrl, "SPLIT-INV", 3, 40);
      const load = placeOrders({ baseUrl: orders.baseUrl, count: 10_000, concurrency: 3, customers: newCustomers("spi", 5), skus: Object.keys(stock), pauseMs: 20 });

      await load.answered(30);
      await kill(first);
      const killedAt = load.report.attempts.length;
      const atKill = await unfinishedWork(fixture);
      // Orders go on being accepted while inventory is away: their events wait in inventory's queue.
      await load.answered(killedAt + 30);
      const whileAway = await unfinishedWork(fixture);
      const catalog = await start(CATALOG);
      await load.answered(load.report.attempts.length + 30);
      const report = await load.stop();

      expect(report.statuses).toEqual({ "201": report.attempts.length });
      await assertSettled({
        label: "split deployment, inventory side killed",
        sqlOf: fixture.sqlOf,
        env: fixture.env(),
        prefix: fixture.prefix,
        acceptedIds: report.accepted,
        placed: report.attempts.length,
        initialStock: stock,
        faults: "SIGKILL of the inventory+notification process ×1, restarted",
        extra: { "left unfinished by the kill": atKill, "waiting when it came back": whileAway },
      });
      expect(await catalog.stop()).toBe(0);
      expect(await orders.stop()).toBe(0);
    },
    60_000,
  );

  test(
    "when the orders process is SIGKILLed under load and restarted, then every order it accepted settles with stock exactly consistent",
    async () => {
      const [first, catalog] = await Promise.all([start(ORDERS), start(CATALOG)]);
      const stock = await createProducts(fixture, catalog.baseUrl, "SPLIT-ORD", 3, 40);
      const customers = newCustomers("spo", 5);
      const reports: LoadReport[] = [];

      const before = placeOrders({ baseUrl: first.baseUrl, count: 10_000, concurrency: 3, customers, skus: Object.keys(stock), pauseMs: 5 });
      await before.answered(40);
      await kill(first);
      reports.push(await before.stop());
      const atKill = await unfinishedWork(fixture);
      const orders = await start(ORDERS);
      const after = placeOrders({ baseUrl: orders.baseUrl, count: 30, concurrency: 3, customers, skus: Object.keys(stock), pauseMs: 5 });
      reports.push(await after.done);

      expect(Object.keys(reports[0]!.statuses).filter((s) => /^\d+$/.test(s))).toEqual(["201"]);
      expect(reports[1]!.statuses).toEqual({ "201": 30 });
      await assertSettled({
        label: "split deployment, orders side killed",
        sqlOf: fixture.sqlOf,
        env: fixture.env(),
        prefix: fixture.prefix,
        acceptedIds: reports.flatMap((r) => r.accepted),
        placed: reports.reduce((n, r) => n + r.attempts.length, 0),
        initialStock: stock,
        faults: "SIGKILL of the orders process ×1, restarted",
        extra: { answers: answers(reports), "left unfinished by the kill": atKill },
      });
      expect(await orders.stop()).toBe(0);
      expect(await catalog.stop()).toBe(0);
    },
    60_000,
  );
});
