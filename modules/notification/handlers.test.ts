import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../src/platform/db.ts";
import { createEnvelope, type Envelope } from "../../src/platform/messaging/envelope.ts";
import type { EventData, EventDefinition } from "../../src/platform/messaging/event.ts";
import { createOutbox } from "../../src/platform/messaging/outbox.ts";
import { createTestDatabase, type TestDatabase } from "../../src/test-support/database.ts";
import { OrderCancelled, OrderConfirmed, OrderRejected, OrderShipped } from "../orders/contract.ts";
import { renderOrderConfirmed } from "./domain/order-templates.ts";
import { migrationsFolder } from "./infrastructure/migrations.ts";
import { notificationRepository } from "./infrastructure/notification-repository.ts";
import { notifications, outbox } from "./infrastructure/schema.ts";
import { notificationHandlers } from "./handlers.ts";

let testDb: TestDatabase;
let database: DatabaseHandle;
const handlers = notificationHandlers({ notifications: notificationRepository });

beforeAll(async () => {
  testDb = await createTestDatabase("notification_handlers");
  database = openDatabase(testDb.url);
  await migrateModule(database, "notification", migrationsFolder);
});

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

function snapshot() {
  return {
    orderId: crypto.randomUUID(),
    customerId: "alice",
    customerEmail: `alice-${crypto.randomUUID().slice(0, 8)}@example.com`,
    items: [{ sku: "MUG-1", name: "Mug", quantity: 2, unitPriceCents: 1250, lineTotalCents: 2500 }],
    totalCents: 2500,
    currency: "EUR",
  };
}

/**
 * Runs the module's handler for `envelope` in one transaction with the real outbox, but deliberately without the
 * inbox (applyEvent would add it): the duplicate tests here check the handler's own guard — the unique
 * (message_id, template) key — which stands behind the inbox.
 */
async function deliver(envelope: Envelope): Promise<void> {
  const handler = handlers.find((h) => h.event.name === envelope.name);
  if (!handler) throw new Error(`no handler for ${envelope.name}`);
  const box = createOutbox(outbox, "notification");
  await database.db.transaction(async (tx) => {
    const emit = (cause: Envelope, event: EventDefinition, data: unknown) =>
      box.add(tx, event, data as never, { correlationId: cause.correlationId, causationId: cause.id });
    await handler.handleMany([{ data: envelope.data, envelope }], { tx, emit, afterCommit: () => {} });
  });
}

function envelopeOf<E extends EventDefinition>(event: E, data: EventData<E>): Envelope {
  return createEnvelope(event, data, "orders", { correlationId: crypto.randomUUID() });
}

function rowsOf(orderId: string) {
  return database.db.select().from(notifications).where(eq(notifications.orderId, orderId));
}

describe("order e-mail handlers", () => {
  test("when each order event arrives, then one pending e-mail with its template is recorded for the customer", async () => {
    const cases = [
      [OrderConfirmed, "order-confirmed", {}],
      [OrderRejected, "order-rejected", { reason: "insufficient stock", shortages: [{ sku: "MUG-1", requested: 2, available: 1 }] }],
      [OrderCancelled, "order-cancelled", { reason: "changed my mind" }],
      [OrderShipped, "order-shipped", {}],
    ] as const;
    for (const [event, template, extra] of cases) {
      const order = snapshot();
      const envelope = envelopeOf(event as EventDefinition, { ...order, ...extra });
      await deliver(envelope);
      const rows = await rowsOf(order.orderId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        messageId: envelope.id,
        template,
        to: order.customerEmail,
        status: "pending",
        attempts: 0,
        lastError: null,
        sentAt: null,
      });
      expect(rows[0]!.subject).toContain(order.orderId);
      expect(rows[0]!.textBody).toContain("Total: €25.00");
      expect(rows[0]!.htmlBody).toContain("<strong>€25.00</strong>");
    }
  });

  test("when an order is rejected, then the stored e-mail carries the reason and the shortages", async () => {
    const order = snapshot();
    await deliver(envelopeOf(OrderRejected, { ...order, reason: "insufficient stock", shortages: [{ sku: "MUG-1", requested: 2, available: 1 }] }));
    const [row] = await rowsOf(order.orderId);
    expect(row!.textBody).toContain("Reason: insufficient stock");
    expect(row!.textBody).toContain("Mug (MUG-1): you asked for 2, we have 1");
  });

  test("when the same event is delivered twice, then one e-mail is recorded", async () => {
    const order = snapshot();
    const envelope = envelopeOf(OrderConfirmed, order);
    await deliver(envelope);
    await deliver(envelope);
    expect(await rowsOf(order.orderId)).toHaveLength(1);
  });

  test("when a batch of events arrives (one of them twice), then each event gets one e-mail, addressed and rendered for its own order", async () => {
    const orders = [snapshot(), snapshot(), snapshot()];
    const envelopes = orders.map((order) => envelopeOf(OrderConfirmed, order));
    const handler = handlers.find((h) => h.event.name === OrderConfirmed.name)!;
    await database.db.transaction((tx) =>
      handler.handleMany(
        [...envelopes, envelopes[1]!].map((envelope) => ({ data: envelope.data, envelope })),
        { tx, emit: () => Promise.reject(new Error("unused")), afterCommit: () => {} },
      ),
    );
    for (const order of orders) {
      const rows = await rowsOf(order.orderId);
      expect(rows.map((r) => ({ template: r.template, to: r.to, subject: r.subject }))).toEqual([
        { template: "order-confirmed", to: order.customerEmail, subject: renderOrderConfirmed(order).subject },
      ]);
    }
  });

  test("when two events concern the same order, then each gets its own e-mail", async () => {
    const order = snapshot();
    await deliver(envelopeOf(OrderConfirmed, order));
    await deliver(envelopeOf(OrderShipped, order));
    const templates = (await rowsOf(order.orderId)).map((r) => r.template).sort();
    expect(templates).toEqual(["order-confirmed", "order-shipped"]);
  });

  test("when the event carries the order's version, then the e-mail records it; an event from before versions records none", async () => {
    const order = snapshot();
    await deliver(envelopeOf(OrderConfirmed, { ...order, version: 2 }));
    await deliver(envelopeOf(OrderShipped, order));
    const versions = Object.fromEntries((await rowsOf(order.orderId)).map((r) => [r.template, r.version]));
    expect(versions).toEqual({ "order-confirmed": 2, "order-shipped": null });
  });

  test("when the handler's transaction rolls back, then no e-mail is left behind", async () => {
    const order = snapshot();
    const envelope = envelopeOf(OrderConfirmed, order);
    const handler = handlers.find((h) => h.event.name === envelope.name)!;
    const failure = database.db.transaction(async (tx) => {
      await handler.handleMany([{ data: envelope.data, envelope }], { tx, emit: () => Promise.reject(new Error("unused")), afterCommit: () => {} });
      throw new Error("a later step failed");
    });
    await expect(failure).rejects.toThrow("a later step failed");
    expect(await rowsOf(order.orderId)).toHaveLength(0);
  });
});
