import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createFaultFixture, createProducts, newCustomers, unfinishedWork, type FaultFixture, type Unfinished } from "../test-support/fault-fixture.ts";
import { answers, placeOrders, shipAndCancel, type Changes, type LoadReport } from "../test-support/order-load.ts";
import { spawnShop } from "../test-support/process.ts";
import { assertSettled } from "../test-support/settlement.ts";

// The process dies without warning (SIGKILL) in the middle of a stream of orders, twice, and is started
// again on the same database and queues: whatever it had accepted is finished, nothing twice.
let fixture: FaultFixture;

beforeAll(async () => {
  fixture = await createFaultFixture("crash");
});
afterAll(async () => {
  await fixture?.close();
});

describe("crash", () => {
  test(
    "when the process is SIGKILLed twice in the middle of a stream of orders and started again, then every accepted order reaches a final status and no event is lost or applied twice",
    async () => {
      const env = fixture.env();
      let shop = await spawnShop(env);
      const stock = await createProducts(fixture, shop.baseUrl, "CRASH", 3, 40);
      const customers = newCustomers("crash", 6);
      const reports: LoadReport[] = [];
      const KILLS = 2;
      const inFlightAtKill: Unfinished[] = [];
      let changes: Changes | undefined;

      for (let kill = 1; kill <= KILLS; kill++) {
        const load = placeOrders({ baseUrl: shop.baseUrl, count: 10_000, concurrency: 4, customers, skus: Object.keys(stock), pauseMs: 5 });
        await load.answered(40);
        if (kill === KILLS) {
          // Before the last kill, ship and cancel some orders too: their events are among what the crash interrupts.
          changes = await shipAndCancel(shop.baseUrl, fixture.sql, reports.flatMap((r) => r.accepted), { ship: 5, cancel: 5 });
          expect(changes.answers).toEqual({ "200": 10 });
        }
        // Mid-stream: requests, transactions, publishes and handlers are all in flight.
        shop.proc.kill("SIGKILL");
        expect(await shop.exited).not.toBe(0);
        const report = await load.stop();
        reports.push(report);
        inFlightAtKill.push(await unfinishedWork(fixture));
        // Requests cut by the crash got no answer at all — never a 5xx, never a false 201.
        const answered = Object.keys(report.statuses).filter((s) => /^\d+$/.test(s));
        expect(answered).toEqual(["201"]);
        shop = await spawnShop(env);
      }

      const accepted = reports.flatMap((r) => r.accepted);
      const placed = reports.reduce((n, r) => n + r.attempts.length, 0);
      const unanswered = reports.reduce((n, r) => n + r.attempts.filter((a) => typeof a.status === "string").length, 0);
      await assertSettled({
        label: "crash (SIGKILL mid-stream)",
        sqlOf: fixture.sqlOf,
        env,
        prefix: fixture.prefix,
        acceptedIds: accepted,
        placed,
        initialStock: stock,
        faults: `SIGKILL ×${KILLS}, restarted ×${KILLS}`,
        extra: { answers: answers(reports), "shipped/cancelled just before the last kill": `${changes?.shipped.length}/${changes?.cancelled.length}`, "requests cut without an answer": unanswered, "left unfinished by each kill": inFlightAtKill },
      });
      expect(await shop.stop()).toBe(0);
    },
    60_000,
  );
});
