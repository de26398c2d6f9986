import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { OrderCancelled, OrderPlaced } from "../../modules/orders/contract.ts";
import { envelopeProperties } from "../platform/messaging/broker.ts";
import { createEnvelope, type Envelope } from "../platform/messaging/envelope.ts";
import { topologyNames } from "../platform/messaging/topology.ts";
import { publishRaw } from "../test-support/broker.ts";
import { eventually } from "../test-support/eventually.ts";
import { createFaultFixture, createProducts, newCustomers, type FaultFixture } from "../test-support/fault-fixture.ts";
import { httpRequest, spawnShop, type ShopProcess } from "../test-support/process.ts";
import { assertSettled } from "../test-support/settlement.ts";

// The broker's part of at-least-once delivery, forged against the whole running app: the same event delivered
// again, the same order placed under a second message id, a cancel that overtakes its placement, a reservation
// answer that arrives after the cancel. Each has one effect, or none, and the books still balance.
let fixture: FaultFixture;
let shop: ShopProcess;

beforeAll(async () => {
  fixture = await createFaultFixture("races");
  // Debug logs: every handled delivery is logged ("event handled", with its message id) — the sync point.
  shop = await spawnShop(fixture.env({ LOG_LEVEL: "debug" }));
});
afterAll(async () => {
  await fixture?.close();
});

/** How many deliveries of `messageId` the module has finished handling (applied or recognised as a duplicate). */
function handled(module: string, messageId: string): number {
  return shop.stdout().split("\n").filter((line) => line.includes('"event handled"') && line.includes(`"messageId":"${messageId}"`) && line.includes(`"module":"${module}"`))
    .length;
}

async function publish(envelope: Envelope): Promise<void> {
  await publishRaw(topologyNames(fixture.prefix).events, envelope.name, JSON.stringify(envelope), envelopeProperties(envelope) as Record<string, unknown>);
}

/** A copy of an event under a new message id: the same fact, published a second time. */
function republished(envelope: Envelope): Envelope {
  return { ...envelope, id: Bun.randomUUIDv7(), occurredAt: new Date().toISOString() };
}

async function event(schema: "orders" | "inventory", name: string, orderId: string): Promise<Envelope> {
  const rows = await fixture.sql<{ envelope: Envelope }[]>`
    select envelope from ${fixture.sql(`${schema}.outbox`)} where name = ${name} and envelope->'data'->>'orderId' = ${orderId}`;
  expect(rows).toHaveLength(1);
  return rows[0]!.envelope;
}

async function eventNames(schema: "orders" | "inventory", orderId: string): Promise<string[]> {
  const rows = await fixture.sql<{ name: string }[]>`
    select name from ${fixture.sql(`${schema}.outbox`)} where envelope->'data'->>'orderId' = ${orderId} order by name`;
  return rows.map((r) => r.name);
}

describe("duplicated and reordered deliveries", () => {
  test(
    "when events are delivered twice, under a second message id and out of order, then each has one effect (or none) and stock, orders and e-mails agree",
    async () => {
      const stock = await createProducts(fixture, shop.baseUrl, "RACE", 2, 10);
      const [p, q] = Object.keys(stock) as [string, string];
      const [customer] = newCustomers("race", 1);
      const status = async (id: string) => (await fixture.sql<{ status: string }[]>`select status from orders.orders where id = ${id}`)[0]?.status;
      const place = async (sku: string, quantity: number) => {
        const res = await httpRequest(shop.baseUrl, "/orders", { method: "POST", as: customer!, json: { items: [{ sku, quantity }] } });
        expect(res.status).toBe(201);
        const { id } = (await res.json()) as { id: string };
        await eventually(() => status(id), { accept: (s) => s === "confirmed", what: `order ${id} to be confirmed` });
        return id;
      };

      // A: confirmed. B: confirmed, then cancelled (its stock released).
      const a = await place(p, 2);
      const b = await place(q, 1);
      expect((await httpRequest(shop.baseUrl, `/orders/${b}/cancel`, { method: "POST", as: customer! })).status).toBe(200);
      await eventually(() => eventNames("inventory", b), { accept: (n) => n.includes("inventory.stock-released"), what: "inventory to release B" });
      const placedA = await event("orders", "orders.order-placed", a);
      const reservedA = await event("inventory", "inventory.stock-reserved", a);
      const placedB = await event("orders", "orders.order-placed", b);
      const cancelledB = await event("orders", "orders.order-cancelled", b);
      const reservedB = await event("inventory", "inventory.stock-reserved", b);
      // C: an order whose cancel reaches inventory before its placement.
      const c = Bun.randomUUIDv7();
      const snapshot = {
        orderId: c,
        customerId: customer!.sub,
        customerEmail: customer!.email,
        items: [{ sku: p, name: `Product ${p}`, quantity: 3, unitPriceCents: 250, lineTotalCents: 750 }],
        totalCents: 750,
        currency: "EUR",
      };
      const cancelledC = createEnvelope(OrderCancelled, { ...snapshot, reason: "changed my mind" }, "orders", { correlationId: `race-${c}` });
      const placedC = createEnvelope(OrderPlaced, snapshot, "orders", { correlationId: `race-${c}` });

      const secondPlacedA = republished(placedA);
      const secondReservedA = republished(reservedA);
      const latePlacedB = republished(placedB);
      const lateReservedB = republished(reservedB);
      // Each forged delivery, and what makes it hostile.
      const deliveries: Array<[Envelope, "out of order" | "redelivery" | "new id" | "late, new id"]> = [
        [cancelledC, "out of order"], [placedC, "out of order"], [placedC, "redelivery"],
        [placedA, "redelivery"], [placedA, "redelivery"], [secondPlacedA, "new id"],
        [reservedA, "redelivery"], [reservedA, "redelivery"], [secondReservedA, "new id"],
        [latePlacedB, "late, new id"], [cancelledB, "redelivery"], [lateReservedB, "late, new id"],
      ];
      for (const [envelope] of deliveries) await publish(envelope);

      const expected: Array<[string, Envelope, number]> = [
        ["inventory", cancelledC, 1], ["notification", cancelledC, 1], ["inventory", placedC, 2],
        ["inventory", placedA, 3], ["inventory", secondPlacedA, 1],
        ["orders", reservedA, 3], ["orders", secondReservedA, 1],
        ["inventory", latePlacedB, 1], ["inventory", cancelledB, 2], ["notification", cancelledB, 2], ["orders", lateReservedB, 1],
      ];
      await eventually(() => expected.every(([module, envelope, n]) => handled(module, envelope.id) >= n), {
        timeoutMs: 15_000,
        what: "every forged delivery to be handled",
      });

      // A: reserved once, confirmed once. B: still cancelled, nothing held. C: nothing reserved, no answer, remembered.
      expect(await status(a)).toBe("confirmed");
      expect(await status(b)).toBe("cancelled");
      expect(await eventNames("inventory", a)).toEqual(["inventory.stock-reserved"]);
      expect(await eventNames("orders", a)).toEqual(["orders.order-confirmed", "orders.order-placed"]);
      expect(await eventNames("inventory", b)).toEqual(["inventory.stock-released", "inventory.stock-reserved"]);
      expect(await eventNames("orders", b)).toEqual(["orders.order-cancelled", "orders.order-confirmed", "orders.order-placed"]);
      expect(await eventNames("inventory", c)).toEqual(["inventory.stock-released"]);
      expect(await fixture.sql`select 1 from inventory.reservations where order_id = ${c}`).toHaveLength(0);
      expect(await fixture.sql`select 1 from inventory.cancelled_orders where order_id = ${c}`).toHaveLength(1);
      const products = await fixture.sql<{ sku: string; reserved: number; on_hand: number }[]>`
        select sku, reserved, on_hand from inventory.products where sku = any(${[p, q]}) order by sku`;
      expect([...products]).toEqual([
        { sku: p, reserved: 2, on_hand: 10 },
        { sku: q, reserved: 0, on_hand: 10 },
      ]);
      // One e-mail per fact (the confirmations' e-mails may still be on their way: wait for four, then compare).
      const mails = async () =>
        (await fixture.sql<{ order_id: string; template: string }[]>`
          select order_id::text, template from notification.notifications where order_id = any(${[a, b, c]}::uuid[])`)
          .map((m) => `${m.order_id === a ? "A" : m.order_id === b ? "B" : "C"} ${m.template}`)
          .sort();
      await eventually(mails, { accept: (m) => m.length >= 4, what: "the e-mails of A, B and C" });
      expect(await mails()).toEqual(["A order-confirmed", "B order-cancelled", "B order-confirmed", "C order-cancelled"]);

      await assertSettled({
        label: "message races",
        sqlOf: fixture.sqlOf,
        env: fixture.env(),
        prefix: fixture.prefix,
        acceptedIds: [a, b],
        placed: 2,
        initialStock: stock,
        faults: `${deliveries.length} forged deliveries`,
        extra: Object.fromEntries(["redelivery", "new id", "out of order", "late, new id"].map((kind) => [kind, deliveries.filter(([, k]) => k === kind).length])),
      });
    },
    45_000,
  );
});
