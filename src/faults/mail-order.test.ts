import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { OrderCancelled, OrderConfirmed, OrderShipped } from "../../modules/orders/contract.ts";
import { envelopeProperties } from "../platform/messaging/broker.ts";
import { createEnvelope, type Envelope } from "../platform/messaging/envelope.ts";
import type { EventData, EventDefinition } from "../platform/messaging/event.ts";
import { publishRaw } from "../test-support/broker.ts";
import { eventually } from "../test-support/eventually.ts";
import { startTestShop, type TestShop } from "../test-support/shop.ts";
import { startSmtpServer, subjectOf, type TestSmtpServer } from "../test-support/smtp-server.ts";

// An order's events reach notification in whatever order the relays and the broker deliver them: forged here,
// through the real broker, into a shop that sends by SMTP to a real server. The customer's mailbox must still read
// in the order things happened. The hold is short so that the test of a lost event stays fast.
const HOLD_MS = 4_000;
let smtp: TestSmtpServer;
let shop: TestShop;

beforeAll(async () => {
  smtp = await startSmtpServer();
  shop = await startTestShop("mail_order", { MODULES: "notification", SMTP_URL: smtp.url, MAIL_HOLD_MS: String(HOLD_MS) });
});
afterAll(async () => {
  await shop?.close();
  await smtp?.close();
});

function order() {
  const orderId = Bun.randomUUIDv7();
  return {
    orderId,
    customerId: "carol",
    customerEmail: `carol-${orderId.slice(-8)}@example.com`,
    items: [{ sku: "LAMP-1", name: "Lamp", quantity: 1, unitPriceCents: 4900, lineTotalCents: 4900 }],
    totalCents: 4900,
    currency: "EUR",
  };
}

/** Publishes an orders event to the events exchange, as orders' relay would. */
async function publish<E extends EventDefinition>(event: E, data: EventData<E>): Promise<Envelope> {
  const envelope = createEnvelope(event, data, "orders", { correlationId: `mail-order-${crypto.randomUUID()}` });
  await publishRaw(shop.shop.broker.names.events, envelope.name, JSON.stringify(envelope), envelopeProperties(envelope) as Record<string, unknown>);
  return envelope;
}

/** The e-mails notification recorded for the order, by template. */
async function recorded(orderId: string) {
  return shop.shop.databaseOf("notification").sql<{ template: string; status: string; createdMs: number; sentMs: number | null }[]>`
    select template, status, extract(epoch from created_at)::float8 * 1000 as "createdMs", extract(epoch from sent_at)::float8 * 1000 as "sentMs"
    from notification.notifications where order_id = ${orderId}`;
}

/** What the customer's mailbox received, in order of arrival. */
function mailbox(customerEmail: string): string[] {
  return smtp.received
    .filter((m) => m.rcptTo.includes(customerEmail))
    .map((m) => /(confirmed|cancelled|shipped)$/.exec(subjectOf(m.raw) ?? "")?.[1] ?? `? ${subjectOf(m.raw)}`);
}

describe("an order's e-mails delivered out of order", () => {
  test("when the cancellation is delivered before the confirmation, then the customer receives the confirmation first, then the cancellation", async () => {
    const o = order();
    // Confirmed at version 2, then cancelled at version 3 — but the broker hands over the cancellation first.
    await publish(OrderCancelled, { ...o, version: 3, reason: "changed my mind" });
    await eventually(() => recorded(o.orderId), { accept: (rows) => rows.length === 1, what: "the cancellation e-mail recorded" });
    await publish(OrderConfirmed, { ...o, version: 2 });

    await eventually(() => mailbox(o.customerEmail), { accept: (m) => m.length === 2, what: "both e-mails in the mailbox" });
    expect(mailbox(o.customerEmail)).toEqual(["confirmed", "cancelled"]);
  });

  test("when the earlier event never arrives, then the later e-mail is held for MAIL_HOLD_MS and then sent", async () => {
    const o = order();
    await publish(OrderShipped, { ...o, version: 3 });

    await eventually(() => mailbox(o.customerEmail), { accept: (m) => m.length === 1, what: "the shipping e-mail in the mailbox", timeoutMs: HOLD_MS + 15_000 });
    const [row] = await eventually(() => recorded(o.orderId), { accept: (rows) => rows[0]?.status === "sent", what: "the e-mail marked sent" });
    expect(smtp.received.find((m) => m.rcptTo.includes(o.customerEmail))!.at - row!.createdMs).toBeGreaterThanOrEqual(HOLD_MS - 50);
  });

  test("when an event was queued before orders added versions, then its e-mail is sent without waiting for the hold", async () => {
    const o = order();
    await publish(OrderCancelled, { ...o, reason: "queued by an older version" });

    await eventually(() => mailbox(o.customerEmail), { accept: (m) => m.length === 1, what: "the cancellation e-mail in the mailbox" });
    const [row] = await eventually(() => recorded(o.orderId), { accept: (rows) => rows[0]?.status === "sent", what: "the e-mail marked sent" });
    expect(row!.sentMs! - row!.createdMs).toBeLessThan(HOLD_MS);
  });
});
