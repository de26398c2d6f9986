import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ModuleName } from "../config.ts";
import { countDeadLetters } from "../platform/messaging/dead-letters.ts";
import { topologyNames } from "../platform/messaging/topology.ts";
import { publishRaw, TEST_AMQP_URL } from "../test-support/broker.ts";
import { eventually } from "../test-support/eventually.ts";
import { createFaultFixture, createProducts, newCustomers, type FaultFixture } from "../test-support/fault-fixture.ts";
import { httpRequest, runCli, spawnShop, type ShopProcess } from "../test-support/process.ts";
import { assertSettled } from "../test-support/settlement.ts";

// Poison on the real events exchange, under real event names, against the whole running app: each message is
// parked in the consuming module's DLQ with the reason an operator reads in `shop dlq list`, and every module
// goes on consuming — a real order placed afterwards is confirmed and mailed.
let fixture: FaultFixture;
let shop: ShopProcess;

beforeAll(async () => {
  fixture = await createFaultFixture("poison");
  shop = await spawnShop(fixture.env());
});
afterAll(async () => {
  await fixture?.close();
});

interface Poison {
  module: ModuleName;
  event: string;
  what: string;
  body: string;
  reason: RegExp;
}

function envelope(name: string, version: number, data: unknown): { id: string; body: string } {
  const id = Bun.randomUUIDv7();
  const body = { id, name, version, occurredAt: new Date().toISOString(), source: "forger", correlationId: `poison-${id}`, data };
  return { id, body: JSON.stringify(body) };
}

describe("poison messages", () => {
  test(
    "when malformed JSON, a wrong schema and an unknown version arrive under real event names, then each is parked in its module's DLQ with the reason and every module keeps consuming",
    async () => {
      const stock = await createProducts(fixture, shop.baseUrl, "POISON", 1, 20);
      const [sku] = Object.keys(stock) as [string];
      const [customer] = newCustomers("poison", 1);
      const accepted: string[] = [];
      const placeConfirmed = async () => {
        const res = await httpRequest(shop.baseUrl, "/orders", { method: "POST", as: customer!, json: { items: [{ sku, quantity: 1 }] } });
        expect(res.status).toBe(201);
        const { id } = (await res.json()) as { id: string };
        accepted.push(id);
        await eventually(async () => (await fixture.sql<{ status: string }[]>`select status from orders.orders where id = ${id}`)[0]?.status, {
          accept: (s) => s === "confirmed",
          what: `order ${id} to be confirmed`,
        });
      };
      await placeConfirmed();

      const orderId = Bun.randomUUIDv7();
      const wrongSchema = envelope("orders.order-placed", 1, { orderId, customerId: "x", items: "three socks" });
      const futureVersion = envelope("orders.order-placed", 2, { orderId, customerId: "x", customerEmail: "x@example.com", items: [], totalCents: 0, currency: "EUR" });
      const badAnswer = envelope("inventory.stock-reserved", 1, { orderId: "not-an-id", items: [{ sku, quantity: -1 }] });
      const futureMail = envelope("orders.order-confirmed", 7, { orderId });
      const notJson = { id: Bun.randomUUIDv7(), body: '{"id": "half a message' };
      const poisons: Array<Poison & { id: string }> = [
        { ...notJson, module: "inventory", event: "orders.order-placed", what: "malformed JSON", reason: /^invalid JSON/ },
        { ...wrongSchema, module: "inventory", event: "orders.order-placed", what: "wrong schema", reason: /^invalid orders\.order-placed v1 data: .*\/items/ },
        { ...futureVersion, module: "inventory", event: "orders.order-placed", what: "unknown version", reason: /^unknown version 2 of orders\.order-placed \(handled: 1\)/ },
        { ...badAnswer, module: "orders", event: "inventory.stock-reserved", what: "wrong schema", reason: /^invalid inventory\.stock-reserved v1 data: .*\/orderId/ },
        { ...futureMail, module: "notification", event: "orders.order-confirmed", what: "unknown version", reason: /^unknown version 7 of orders\.order-confirmed/ },
      ];
      for (const poison of poisons) {
        await publishRaw(topologyNames(fixture.prefix).events, poison.event, poison.body, { messageId: poison.id, type: poison.event });
      }

      const parked = (module: ModuleName) => countDeadLetters({ amqpUrl: TEST_AMQP_URL, prefix: fixture.prefix, module });
      const wanted = { inventory: 3, orders: 1, notification: 1 } as const;
      for (const module of Object.keys(wanted) as Array<keyof typeof wanted>) {
        await eventually(() => parked(module), { accept: (n) => n === wanted[module], what: `${module}'s DLQ to hold ${wanted[module]}` });
      }

      // What the operator sees: each parked message with its reason, left where it is.
      for (const module of Object.keys(wanted) as Array<keyof typeof wanted>) {
        const listed = await runCli(["dlq", "list", module], fixture.env());
        expect(listed.code).toBe(0);
        expect(listed.stderr).toContain(`${wanted[module]} message(s) parked in ${module}'s dead-letter queue`);
        const letters = listed.stdout.trim().split("\n").map((line) => JSON.parse(line) as { messageId: string; event: string; reason: string });
        for (const poison of poisons.filter((p) => p.module === module)) {
          const letter = letters.find((l) => l.messageId === poison.id);
          expect({ what: poison.what, event: letter?.event, reason: letter?.reason }).toEqual({ what: poison.what, event: poison.event, reason: expect.stringMatching(poison.reason) });
        }
        expect(await parked(module)).toBe(wanted[module]);
      }

      // Every module kept consuming: a real order after the poison is confirmed (and mailed, checked below).
      await placeConfirmed();

      // Replaying poison re-parks it once — no loop — and the module still consumes.
      const replayed = await runCli(["dlq", "replay", "inventory"], fixture.env());
      expect(replayed.code).toBe(0);
      expect(replayed.stderr).toContain("3 message(s) sent back to inventory's queue");
      await eventually(() => parked("inventory"), { accept: (n) => n === 3, what: "the replayed poison to be parked again" });
      await placeConfirmed();

      await assertSettled({
        label: "poison messages",
        sqlOf: fixture.sqlOf,
        env: fixture.env(),
        prefix: fixture.prefix,
        acceptedIds: accepted,
        placed: accepted.length,
        initialStock: stock,
        faults: `${poisons.length} poison messages (${poisons.map((p) => `${p.what} → ${p.module}`).join("; ")}), 3 replayed`,
        deadLetters: wanted,
      });
    },
    45_000,
  );
});
