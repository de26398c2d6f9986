import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { eq, inArray } from "drizzle-orm";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import pino from "pino";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../../src/platform/db.ts";
import { createTestDatabase, type TestDatabase } from "../../../src/test-support/database.ts";
import { eventually } from "../../../src/test-support/eventually.ts";
import { startSmtpServer as startTestSmtpServer, subjectOf, type TestSmtpServer } from "../../../src/test-support/smtp-server.ts";
import type { RetryPolicy } from "../domain/delivery-policy.ts";
import { renderOrderCancelled, renderOrderConfirmed, renderOrderShipped } from "../domain/order-templates.ts";
import type { TemplateName } from "../domain/rendered-email.ts";
import type { MailSender } from "../ports.ts";
import { migrationsFolder } from "../infrastructure/migrations.ts";
import { notificationRepository } from "../infrastructure/notification-repository.ts";
import { notifications } from "../infrastructure/schema.ts";
import { SmtpMailSender } from "../infrastructure/smtp-mail-sender.ts";
import { MailDispatcher } from "./mail-dispatcher.ts";
import { notificationMetrics } from "../infrastructure/notification-metrics.ts";
import { testModuleMetrics } from "../../../src/test-support/metrics.ts";

const FROM = "Shop <shop@example.com>";
const silent = pino({ level: "silent" });
const FAST_RETRIES: RetryPolicy = { maxAttempts: 3, backoffMs: [100, 200] };

let testDb: TestDatabase;
let database: DatabaseHandle;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  testDb = await createTestDatabase("notification_dispatch");
  database = openDatabase(testDb.url);
  await migrateModule(database, "notification", migrationsFolder);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  // Each test starts with no e-mail owed, so one test's dispatcher never sends another test's mail.
  await database.db.delete(notifications);
});

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

// --- a real SMTP server (smtp-server) that records what reaches it -----------------------------------

async function startSmtpServer(options: Parameters<typeof startTestSmtpServer>[0] = {}): Promise<TestSmtpServer> {
  const server = await startTestSmtpServer(options);
  cleanups.push(() => server.close());
  return server;
}

/** A port on which nothing listens (bound once by us, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The headers and the decoded text/plain and text/html parts of a raw multipart/alternative message. */
function parseMessage(raw: string) {
  const [head, body] = splitOnce(raw, "\r\n\r\n");
  const headers = parseHeaders(head);
  const boundary = /boundary="?([^";\r\n]+)"?/.exec(headers["content-type"] ?? "")?.[1];
  if (!boundary) throw new Error(`not a multipart message: ${headers["content-type"]}`);
  const parts: Record<string, string> = {};
  for (const chunk of body.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith("--")) break;
    const [partHead, partBody] = splitOnce(chunk.replace(/^\r\n/, ""), "\r\n\r\n");
    const partHeaders = parseHeaders(partHead);
    const type = (partHeaders["content-type"] ?? "").split(";")[0]!.trim();
    parts[type] = decodeBody(partBody.replace(/\r\n$/, ""), partHeaders["content-transfer-encoding"] ?? "7bit");
  }
  return { headers, text: parts["text/plain"], html: parts["text/html"] };
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, ""] : [value.slice(0, at), value.slice(at + separator.length)];
}

function parseHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const [name, value] = splitOnce(line, ":");
    headers[name.trim().toLowerCase()] = value.trim();
  }
  return headers;
}

function decodeBody(body: string, encoding: string): string {
  if (/base64/i.test(encoding)) return Buffer.from(body, "base64").toString("utf8");
  if (/quoted-printable/i.test(encoding)) {
    const joined = body.replace(/=\r\n/g, "");
    const bytes: number[] = [];
    for (let i = 0; i < joined.length; i++) {
      if (joined[i] === "=" && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
        bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(joined.charCodeAt(i));
    }
    return Buffer.from(bytes).toString("utf8").replace(/\r\n/g, "\n");
  }
  return body.replace(/\r\n/g, "\n");
}

// --- helpers ---------------------------------------------------------------------------------------

function dispatcher(
  sender: MailSender,
  options: { policy?: RetryPolicy; pollMs?: number; batchSize?: number; db?: DatabaseHandle; holdMs?: number } = {},
) {
  const instance = new MailDispatcher({
    database: options.db ?? database,
    notifications: notificationRepository,
    sender,
    from: FROM,
    logger: silent,
    metrics: notificationMetrics(testModuleMetrics("notification")),
    policy: options.policy ?? FAST_RETRIES,
    pollMs: options.pollMs ?? 20,
    batchSize: options.batchSize,
    holdMs: options.holdMs,
  });
  cleanups.push(() => instance.stop());
  return instance;
}

function smtpSender(url: string, timeoutMs?: number) {
  const sender = new SmtpMailSender(url, timeoutMs);
  cleanups.push(() => sender.close());
  return sender;
}

function confirmedOrder() {
  const orderId = crypto.randomUUID();
  return {
    orderId,
    customerId: "alice",
    customerEmail: `alice-${orderId.slice(0, 8)}@example.com`,
    items: [
      { sku: "MUG-1", name: "Mug <Deluxe>", quantity: 2, unitPriceCents: 1250, lineTotalCents: 2500 },
      { sku: "TEE-2", name: "T-shirt", quantity: 1, unitPriceCents: 1999, lineTotalCents: 1999 },
    ],
    totalCents: 4499,
    currency: "EUR",
  };
}

/** What the event handler does: store the rendered e-mail as pending, in its own transaction. */
async function recordConfirmed(order: ReturnType<typeof confirmedOrder>, messageId: string = Bun.randomUUIDv7()) {
  await database.db.transaction((tx) =>
    notificationRepository.insertPending(tx, [{ messageId, orderId: order.orderId, template: "order-confirmed", email: renderOrderConfirmed(order) }]),
  );
}

const RENDER = { "order-confirmed": renderOrderConfirmed, "order-cancelled": renderOrderCancelled, "order-shipped": renderOrderShipped };

/** Records the e-mail of one order event carrying the order's `version` (none: an event from before versions). */
async function recordEvent(order: ReturnType<typeof confirmedOrder>, template: keyof typeof RENDER, version: number | undefined) {
  await database.db.transaction((tx) =>
    notificationRepository.insertPending(tx, [
      { messageId: Bun.randomUUIDv7(), orderId: order.orderId, template: template as TemplateName, email: RENDER[template](order), version },
    ]),
  );
}

/** What the customer's mailbox received for the order, in order of arrival: "confirmed", "cancelled", "shipped". */
function mailbox(smtp: TestSmtpServer, order: ReturnType<typeof confirmedOrder>): string[] {
  return smtp.received
    .filter((m) => m.rcptTo.includes(order.customerEmail))
    .map((m) => /(confirmed|cancelled|shipped)$/.exec(subjectOf(m.raw) ?? "")?.[1] ?? `? ${subjectOf(m.raw)}`);
}

async function rowOf(orderId: string) {
  const [row] = await database.db.select().from(notifications).where(eq(notifications.orderId, orderId));
  return row;
}

// --- tests -----------------------------------------------------------------------------------------

describe("MailDispatcher with SMTP", () => {
  test("when a confirmed-order e-mail is recorded, then it arrives by SMTP right after commit with recipient, subject, text and HTML", async () => {
    const smtp = await startSmtpServer();
    // A poll far longer than the test: only the NOTIFY sent at commit can make the e-mail go out in time.
    await dispatcher(smtpSender(smtp.url), { pollMs: 600_000 }).start();
    const order = confirmedOrder();

    await recordConfirmed(order);

    await eventually(() => smtp.received.length === 1, { what: "the e-mail at the SMTP server", timeoutMs: 5_000 });
    const mail = smtp.received[0]!;
    expect(mail.mailFrom).toBe("shop@example.com");
    expect(mail.rcptTo).toEqual([order.customerEmail]);
    const message = parseMessage(mail.raw);
    expect(message.headers.to).toBe(order.customerEmail);
    expect(message.headers.from).toBe('Shop <shop@example.com>');
    expect(message.headers.subject).toBe(`Your order ${order.orderId} is confirmed`);
    expect(message.headers["content-type"]).toStartWith("multipart/alternative");
    expect(message.text).toContain("2 × Mug <Deluxe> (MUG-1) at €12.50 = €25.00");
    expect(message.text).toContain("Total: €44.99");
    expect(message.html).toContain("Mug &lt;Deluxe&gt;");
    expect(message.html).toContain("<strong>€44.99</strong>");

    const row = await eventually(() => rowOf(order.orderId), { accept: (r) => r?.status === "sent", what: "status sent" });
    expect(row).toMatchObject({ status: "sent", attempts: 1, lastError: null });
    expect(row!.sentAt).toBeInstanceOf(Date);
  });

  test("when the same event is recorded twice, then one notification and one e-mail result", async () => {
    const smtp = await startSmtpServer();
    const instance = dispatcher(smtpSender(smtp.url));
    const order = confirmedOrder();
    const messageId = Bun.randomUUIDv7();
    await recordConfirmed(order, messageId);
    await recordConfirmed(order, messageId);
    await instance.start();

    await eventually(() => rowOf(order.orderId), { accept: (r) => r?.status === "sent", what: "status sent" });
    // One more full pass: nothing is left to send.
    instance.wake();
    await instance.idle();
    expect(await database.db.select().from(notifications).where(eq(notifications.orderId, order.orderId))).toHaveLength(1);
    expect(smtp.received.filter((m) => m.rcptTo.includes(order.customerEmail))).toHaveLength(1);
  });

  test("when the SMTP server refuses every time, then the e-mail is retried with growing delays and ends failed", async () => {
    const smtp = await startSmtpServer({ refuse: "mailbox temporarily unavailable" });
    await dispatcher(smtpSender(smtp.url)).start();
    const order = confirmedOrder();
    await recordConfirmed(order);

    const row = await eventually(() => rowOf(order.orderId), { accept: (r) => r?.status === "failed", what: "status failed" });
    expect(row!.attempts).toBe(FAST_RETRIES.maxAttempts);
    expect(row!.lastError).toContain("451");
    expect(row!.lastError).toContain("mailbox temporarily unavailable");
    expect(row!.sentAt).toBeNull();
    expect(smtp.received).toHaveLength(0);
    expect(smtp.attempts).toHaveLength(3);
    // The waits between attempts follow the backoff (100 ms, then 200 ms), measured at the server.
    expect(smtp.attempts[1]! - smtp.attempts[0]!).toBeGreaterThanOrEqual(90);
    expect(smtp.attempts[2]! - smtp.attempts[1]!).toBeGreaterThanOrEqual(190);
  });

  test("when the SMTP server refuses once, then the next attempt delivers it and the first error stays on record", async () => {
    const smtp = await startSmtpServer({ refuse: "try again later", refuseTimes: 1 });
    await dispatcher(smtpSender(smtp.url)).start();
    const order = confirmedOrder();
    await recordConfirmed(order);

    const row = await eventually(() => rowOf(order.orderId), { accept: (r) => r?.status === "sent", what: "status sent" });
    expect(row!.attempts).toBe(2);
    expect(row!.lastError).toContain("try again later");
    expect(smtp.received).toHaveLength(1);
  });

  test("when nothing listens at the SMTP address, then the e-mail ends failed with the connection error", async () => {
    const port = await closedPort();
    await dispatcher(smtpSender(`smtp://127.0.0.1:${port}`, 2_000), { policy: { maxAttempts: 2, backoffMs: [50] } }).start();
    const order = confirmedOrder();
    await recordConfirmed(order);

    const row = await eventually(() => rowOf(order.orderId), { accept: (r) => r?.status === "failed", what: "status failed" });
    expect(row!.attempts).toBe(2);
    expect(row!.lastError).toContain("ECONNREFUSED");
  });

  test("when two dispatchers (two instances) run at once, then every e-mail is sent exactly once", async () => {
    const smtp = await startSmtpServer({ delayMs: 5 });
    const orders = Array.from({ length: 20 }, confirmedOrder);
    for (const order of orders) await recordConfirmed(order);
    const other = openDatabase(testDb.url);
    cleanups.push(() => other.close());

    const sentBy = [0, 0];
    const counting = (index: number): MailSender => {
      const sender = smtpSender(smtp.url);
      return { send: (message) => sender.send(message).then((info) => (sentBy[index]!++, info)) };
    };
    await Promise.all([
      dispatcher(counting(0), { batchSize: 3 }).start(),
      dispatcher(counting(1), { batchSize: 3, db: other }).start(),
    ]);

    await eventually(
      async () => {
        const ids = orders.map((o) => o.orderId);
        const rows = await database.db.select().from(notifications).where(inArray(notifications.orderId, ids));
        return rows.every((r) => r.status === "sent");
      },
      { what: "every e-mail sent" },
    );
    const recipients = smtp.received.flatMap((m) => m.rcptTo).sort();
    expect(recipients).toEqual(orders.map((o) => o.customerEmail).sort());
    // Both instances took part (otherwise the test would not have exercised the row locks).
    expect(sentBy[0]! + sentBy[1]!).toBe(orders.length);
    expect(Math.min(...sentBy)).toBeGreaterThan(0);
  });
});

describe("MailDispatcher keeps an order's e-mails in version order", () => {
  test("when the cancellation (version 3) is recorded before the confirmation (version 2), then the customer receives the confirmation first, then the cancellation", async () => {
    const smtp = await startSmtpServer();
    const instance = dispatcher(smtpSender(smtp.url));
    await instance.start();
    const order = confirmedOrder();

    await recordEvent(order, "order-cancelled", 3);
    // A whole pass with the cancellation alone: without the ordering rule it goes out here.
    instance.wake();
    await instance.idle();
    await recordEvent(order, "order-confirmed", 2);

    await eventually(() => mailbox(smtp, order), { accept: (m) => m.length === 2, what: "both e-mails at the SMTP server" });
    expect(mailbox(smtp, order)).toEqual(["confirmed", "cancelled"]);
  });

  test("when both e-mails are due in one claim, then the earlier version is sent first and the later one after it", async () => {
    const smtp = await startSmtpServer({ delayMs: 20 });
    const orders = Array.from({ length: 3 }, confirmedOrder);
    // The later e-mail is due first: a claim in due order alone would send it first.
    for (const order of orders) await recordEvent(order, "order-shipped", 3);
    for (const order of orders) await recordEvent(order, "order-confirmed", 2);
    await dispatcher(smtpSender(smtp.url), { batchSize: 10 }).start();

    await eventually(() => orders.every((o) => mailbox(smtp, o).length === 2), { what: "every e-mail at the SMTP server" });
    for (const order of orders) expect(mailbox(smtp, order)).toEqual(["confirmed", "shipped"]);
  });

  test("when the earlier e-mail's first attempt is refused, then the later one waits for its retry and goes out after it", async () => {
    const smtp = await startSmtpServer({ refuse: "try again later", refuseTimes: 1 });
    const order = confirmedOrder();
    await recordEvent(order, "order-confirmed", 2);
    await recordEvent(order, "order-cancelled", 3);
    await dispatcher(smtpSender(smtp.url), { batchSize: 1 }).start();

    await eventually(() => mailbox(smtp, order), { accept: (m) => m.length === 2, what: "both e-mails at the SMTP server" });
    expect(mailbox(smtp, order)).toEqual(["confirmed", "cancelled"]);
    expect(smtp.attempts).toHaveLength(3);
  });

  test("when the earlier e-mail never comes, then the later one is held for the hold and sent once it has passed", async () => {
    const smtp = await startSmtpServer();
    const holdMs = 1_500;
    await dispatcher(smtpSender(smtp.url), { holdMs }).start();
    const order = confirmedOrder();

    await recordEvent(order, "order-shipped", 3);

    await eventually(() => mailbox(smtp, order), { accept: (m) => m.length === 1, what: "the held e-mail at the SMTP server", timeoutMs: 15_000 });
    // The dispatcher records "sent" once the SMTP server has accepted the e-mail: a moment after the mailbox has it.
    const row = await eventually(() => rowOf(order.orderId), { accept: (r) => r?.status !== "pending", what: "the e-mail's row to be settled" });
    expect(row).toMatchObject({ status: "sent", attempts: 1 });
    // Not before the hold ran out (measured against the row's recording).
    expect(smtp.received.at(-1)!.at - row!.createdAt.getTime()).toBeGreaterThanOrEqual(holdMs - 50);
  });

  test("when an e-mail's event carried no version (sent before orders added it), then it is not held, and holds nothing back", async () => {
    const smtp = await startSmtpServer();
    // A hold far longer than the test: nothing here may wait for it.
    await dispatcher(smtpSender(smtp.url), { holdMs: 600_000 }).start();
    const order = confirmedOrder();

    await recordEvent(order, "order-confirmed", undefined);
    await eventually(() => mailbox(smtp, order), { accept: (m) => m.length === 1, what: "the e-mail without a version" });
    await recordEvent(order, "order-cancelled", 3);

    await eventually(() => mailbox(smtp, order), { accept: (m) => m.length === 2, what: "the next e-mail of its order" });
    expect(mailbox(smtp, order)).toEqual(["confirmed", "cancelled"]);
  });
});
