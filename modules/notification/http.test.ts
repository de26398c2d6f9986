import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pino from "pino";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../src/platform/db.ts";
import { signToken } from "../../src/platform/http/shop-tokens.ts";
import { createHttpApp } from "../../src/platform/http/server.ts";
import { createTestDatabase, type TestDatabase } from "../../src/test-support/database.ts";
import { renderOrderConfirmed, renderOrderShipped } from "./domain/order-templates.ts";
import type { OrderSnapshot } from "./domain/rendered-email.ts";
import { notificationRoutes, type NotificationPageBody } from "./http.ts";
import { migrationsFolder } from "./infrastructure/migrations.ts";
import { notificationRepository } from "./infrastructure/notification-repository.ts";
import { createAuthenticator } from "../../src/platform/http/authenticator.ts";

const SECRET = "test-secret-of-at-least-32-characters!";
let testDb: TestDatabase;
let database: DatabaseHandle;
let app: { handle(request: Request): Promise<Response> };
let adminToken: string;
let customerToken: string;

function order(): OrderSnapshot {
  return {
    orderId: crypto.randomUUID(),
    customerId: "carol",
    customerEmail: "carol@example.com",
    items: [{ sku: "MUG-1", name: "Mug", quantity: 1, unitPriceCents: 1250, lineTotalCents: 1250 }],
    totalCents: 1250,
    currency: "EUR",
  };
}

async function record(snapshot: OrderSnapshot, template: "order-confirmed" | "order-shipped") {
  const email = template === "order-confirmed" ? renderOrderConfirmed(snapshot) : renderOrderShipped(snapshot);
  await notificationRepository.insertPending(database.db, [{ messageId: Bun.randomUUIDv7(), orderId: snapshot.orderId, template, email }]);
}

beforeAll(async () => {
  testDb = await createTestDatabase("notification_http");
  database = openDatabase(testDb.url);
  await migrateModule(database, "notification", migrationsFolder);
  app = createHttpApp({ logger: pino({ level: "silent" }), authenticator: createAuthenticator({ secret: SECRET }), readiness: {} }).use(
    notificationRoutes({ authenticator: createAuthenticator({ secret: SECRET }), db: database.db, notifications: notificationRepository }),
  );
  adminToken = await signToken(SECRET, { sub: "admin", email: "admin@example.com", role: "admin" });
  customerToken = await signToken(SECRET, { sub: "carol", email: "carol@example.com", role: "customer" });
});

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

function get(path: string, token?: string) {
  return app.handle(new Request(`http://localhost${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }));
}

async function page(path: string): Promise<NotificationPageBody> {
  const res = await get(path, adminToken);
  expect(res.status).toBe(200);
  return (await res.json()) as NotificationPageBody;
}

describe("GET /notifications", () => {
  test("when called without a token, then 401 (even with a bad query)", async () => {
    for (const path of ["/notifications", "/notifications?orderId=nope&limit=0"]) {
      const res = await get(path);
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toStartWith("application/problem+json");
      expect(await res.json()).toMatchObject({ code: "AUTH.REQUIRED" });
    }
  });

  test("when a customer calls it, then 403", async () => {
    const res = await get("/notifications", customerToken);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "AUTH.ADMIN_ONLY" });
  });

  test("when an admin filters by orderId, then only that order's e-mails come back, newest first, without bodies", async () => {
    const mine = order();
    await record(mine, "order-confirmed");
    await record(mine, "order-shipped");
    await record(order(), "order-confirmed");

    const body = await page(`/notifications?orderId=${mine.orderId}`);
    expect(body.nextCursor).toBeNull();
    expect(body.items.map((i) => i.template)).toEqual(["order-shipped", "order-confirmed"]);
    expect(body.items[1]).toEqual({
      id: expect.any(String),
      orderId: mine.orderId,
      template: "order-confirmed",
      to: "carol@example.com",
      subject: `Your order ${mine.orderId} is confirmed`,
      status: "pending",
      attempts: 0,
      lastError: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      sentAt: null,
    });
  });

  test("when there are more e-mails than the limit, then nextCursor leads to the rest and the last page has none", async () => {
    const mine = order();
    for (let i = 0; i < 3; i++) await record(mine, "order-confirmed");
    const ids = (body: NotificationPageBody) => body.items.map((i) => i.id);
    const all = ids(await page(`/notifications?orderId=${mine.orderId}`));
    expect(all).toHaveLength(3);

    const first = await page(`/notifications?orderId=${mine.orderId}&limit=2`);
    expect(ids(first)).toEqual(all.slice(0, 2));
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await page(`/notifications?orderId=${mine.orderId}&limit=2&cursor=${first.nextCursor}`);
    expect(ids(second)).toEqual(all.slice(2));
    expect(second.nextCursor).toBeNull();
  });

  test("when a cursor was not handed out by this list (a bare e-mail id, garbage, a forged id), then 422 naming /cursor", async () => {
    const mine = order();
    await record(mine, "order-confirmed");
    const [email] = (await page(`/notifications?orderId=${mine.orderId}`)).items;
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    for (const cursor of [email!.id, "garbage!", forged({ id: "1; drop table" }), forged({ id: 7 }), forged(email!.id)]) {
      const res = await get(`/notifications?cursor=${encodeURIComponent(cursor)}`, adminToken);
      expect({ cursor, status: res.status, body: await res.json() }).toMatchObject({
        cursor,
        status: 422,
        body: { code: "NOTIFICATION.INVALID_CURSOR", errors: [{ in: "query", field: "/cursor" }] },
      });
    }
  });

  test("when the query is invalid, then 422 naming the field", async () => {
    const res = await get("/notifications?orderId=not-a-uuid", adminToken);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { errors: unknown }).errors).toEqual([expect.objectContaining({ in: "query", field: "/orderId" })]);
    expect((await get("/notifications?limit=0", adminToken)).status).toBe(422);
    expect((await get("/notifications?limit=101", adminToken)).status).toBe(422);
  });
});
