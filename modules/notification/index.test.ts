import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import pino from "pino";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../src/platform/db.ts";
import { createEnvelope } from "../../src/platform/messaging/envelope.ts";
import { createOutbox } from "../../src/platform/messaging/outbox.ts";
import { createTestDatabase, type TestDatabase } from "../../src/test-support/database.ts";
import { eventually } from "../../src/test-support/eventually.ts";
import { OrderShipped } from "../orders/contract.ts";
import { notificationModule } from "./index.ts";
import { notifications } from "./infrastructure/schema.ts";
import { testModuleMetrics } from "../../src/test-support/metrics.ts";
import { createAuthenticator } from "../../src/platform/http/authenticator.ts";

let testDb: TestDatabase;
let database: DatabaseHandle;

beforeAll(async () => {
  testDb = await createTestDatabase("notification_module");
  database = openDatabase(testDb.url);
});

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

describe("notificationModule", () => {
  test("when no SMTP_URL is configured, then an order e-mail is stored, logged by subject and recipient count at info (its text at debug, its address never), and marked sent", async () => {
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
    const module = notificationModule.create({ database, logger, authenticator: createAuthenticator({ secret: "x".repeat(32) }), metrics: testModuleMetrics("notification"), settings: { from: "Shop <shop@example.com>" } });
    await migrateModule(database, module.name, module.migrationsFolder);
    const [dispatcher] = module.loops!;
    await dispatcher!.start();
    try {
      const orderId = crypto.randomUUID();
      const data = {
        orderId,
        customerId: "bob",
        customerEmail: "bob@example.com",
        items: [{ sku: "TEE-2", name: "T-shirt", quantity: 3, unitPriceCents: 1999, lineTotalCents: 5997 }],
        totalCents: 5997,
        currency: "EUR",
      };
      const envelope = createEnvelope(OrderShipped, data, "orders", { correlationId: crypto.randomUUID() });
      const handler = module.handlers.find((h) => h.event.name === OrderShipped.name)!;
      const outbox = createOutbox(module.outboxTable, module.name);
      await database.db.transaction((tx) =>
        handler.handleMany([{ data, envelope }], { tx, emit: (cause, event, payload) => outbox.add(tx, event, payload, { correlationId: cause.correlationId }), afterCommit: () => {} }),
      );

      const [row] = await eventually(() => database.db.select().from(notifications).where(eq(notifications.orderId, orderId)), {
        accept: (rows) => rows[0]?.status === "sent",
        what: "the e-mail marked sent",
      });
      expect(row).toMatchObject({ template: "order-shipped", to: "bob@example.com", attempts: 1, lastError: null });
      const logged = logs.find((entry) => entry.msg === "e-mail stored (no SMTP_URL configured)");
      expect(logged).toEqual(expect.objectContaining({ level: 30, subject: `Your order ${orderId} has shipped`, recipients: 1 }));
      expect(logged).not.toHaveProperty("text");
      const body = logs.find((entry) => entry.msg === "e-mail body");
      expect(body).toMatchObject({ level: 20, subject: `Your order ${orderId} has shipped` });
      expect(String(body!.body)).toContain("3 × T-shirt (TEE-2) at €19.99 = €59.97");
      expect(JSON.stringify(logs)).not.toContain("bob@example.com");
    } finally {
      await dispatcher!.stop();
    }
  });

  test("when the module is defined, then it consumes exactly the order events it has handlers for", () => {
    const module = notificationModule.create({ database, logger: pino({ level: "silent" }), authenticator: createAuthenticator({ secret: "x".repeat(32) }), metrics: testModuleMetrics("notification"), settings: { from: "a@b.c" } });
    expect(module.handlers.map((h) => h.event.name).sort()).toEqual(notificationModule.consumes.map((e) => e.name).sort());
    expect(notificationModule.consumes.map((e) => e.name).sort()).toEqual([
      "orders.order-cancelled",
      "orders.order-confirmed",
      "orders.order-rejected",
      "orders.order-shipped",
    ]);
  });
});
