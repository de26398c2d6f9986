import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MODULE_NAMES } from "./config.ts";
import { deleteBrokerObjects, testPrefix } from "./test-support/broker.ts";
import { createTestDatabase, type TestDatabase } from "./test-support/database.ts";
import { eventually } from "./test-support/eventually.ts";
import { httpRequest, spawnShop, stopAllProcesses, type ShopProcess } from "./test-support/process.ts";
import { admin, alice, TEST_RETRY_DELAYS_MS, testEnv, tokenFor } from "./test-support/shop.ts";

// One order's life as the logs tell it: a shop started as an operator starts it (no SMTP_URL: e-mails are stored
// and logged), with every line at debug, and one order placed with a W3C traceparent.
let database: TestDatabase;
let prefix: string;
let shop: ShopProcess;

type Line = Record<string, unknown>;

beforeAll(async () => {
  database = await createTestDatabase("logs");
  prefix = testPrefix("logs");
  shop = await spawnShop(testEnv(database, prefix, { LOG_LEVEL: "debug" }));
});
afterAll(async () => {
  await stopAllProcesses();
  await database?.drop();
  if (prefix) await deleteBrokerObjects(prefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS);
});

/** The complete JSON lines of stdout so far (whether stdout holds anything else is a test of its own). */
const stdoutLines = (): Line[] =>
  shop
    .stdout()
    .split("\n")
    .slice(0, -1)
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Line);

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

/** Places one order and waits until its confirmation e-mail is sent; returns what identifies it. */
async function orderToItsEmail(): Promise<{ orderId: string; correlationId: string; requestId: string; token: string }> {
  const sku = `LOG-${crypto.randomUUID().slice(0, 8)}`;
  const put = await httpRequest(shop.baseUrl, `/products/${sku}`, { method: "PUT", as: admin, json: { name: sku, priceCents: 700, stock: 3 } });
  expect(put.status).toBe(201);
  const token = await tokenFor(alice);
  const placed = await eventually(
    () =>
      httpRequest(shop.baseUrl, "/orders", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
        json: { items: [{ sku, quantity: 1 }] },
      }),
    { accept: (r) => r.status === 201, what: "orders to know the product's price" },
  );
  const orderId = ((await placed.json()) as { id: string }).id;
  const correlationId = placed.headers.get("x-correlation-id")!;
  const requestId = placed.headers.get("x-request-id")!;
  await eventually(
    async () => ((await (await httpRequest(shop.baseUrl, `/notifications?orderId=${orderId}`, { as: admin })).json()) as { items: Array<{ status: string }> }).items,
    { accept: (items) => items.length === 1 && items[0]!.status === "sent", what: "the order's e-mail to be sent", timeoutMs: 20_000 },
  );
  // The stored-mail sender logged it before the e-mail was recorded as sent.
  expect(shop.stdout()).toContain("e-mail stored (no SMTP_URL configured)");
  return { orderId, correlationId, requestId, token };
}

let order: Awaited<ReturnType<typeof orderToItsEmail>>;
beforeAll(async () => {
  order = await orderToItsEmail();
}, 60_000);

describe("following one order through the logs", () => {
  test("when an order is placed and e-mailed, then the lines with its correlation id show each step: the request, every publish, every module handling its event, and the e-mail", async () => {
    // The dispatcher logs right after it recorded the e-mail as sent.
    const lines = await eventually(async () => stdoutLines().filter((l) => l.correlationId === order.correlationId), {
      accept: (found) => found.some((l) => l.msg === "e-mail sent"),
      what: "the dispatcher's line about the order's e-mail",
    });
    const steps = lines.map((l) => [l.module, l.msg, l.event ?? (l.method ? `${l.method} ${l.path}` : "-")].join(" | "));
    const expected = [
      "orders | request | POST /orders",
      "orders | event published | orders.order-placed",
      "inventory | event handled | orders.order-placed",
      "inventory | event published | inventory.stock-reserved",
      "orders | event handled | inventory.stock-reserved",
      "orders | event published | orders.order-confirmed",
      "notification | event handled | orders.order-confirmed",
      "notification | e-mail stored (no SMTP_URL configured) | -",
      "notification | e-mail sent | -",
    ];
    for (const step of expected) expect(steps).toContain(step);
    const sent = lines.find((l) => l.msg === "e-mail sent")!;
    expect(sent.orderId).toBe(order.orderId);
  });

  test("when a request carries a traceparent, then every line of that request carries its module, correlation id, request id and trace id", () => {
    const ofRequest = stdoutLines().filter((l) => l.requestId === order.requestId);
    expect(ofRequest.length).toBeGreaterThan(0);
    for (const line of ofRequest) {
      expect(line).toMatchObject({ module: "orders", correlationId: order.correlationId, traceId: TRACE_ID });
    }
    expect(ofRequest.find((l) => l.msg === "request")).toMatchObject({ method: "POST", path: "/orders", status: 201 });
  });

  test("when the e-mail is stored instead of sent, then no line at info or above holds the customer's address, the e-mail's body or the token, and the stored e-mail is logged by subject and recipient count", () => {
    const lines = stdoutLines();
    const atInfo = lines.filter((l) => Number(l.level) >= 30);
    expect(atInfo.length).toBeGreaterThan(0);
    for (const line of atInfo) {
      const text = JSON.stringify(line);
      expect(text).not.toContain(alice.email);
      expect(text).not.toContain(order.token);
      expect(line).not.toHaveProperty("body");
      expect(line).not.toHaveProperty("text");
    }
    const stored = atInfo.find((l) => l.correlationId === order.correlationId && l.msg === "e-mail stored (no SMTP_URL configured)")!;
    expect(stored).toMatchObject({ level: 30, recipients: 1, subject: expect.stringContaining("confirmed") });
    expect(stored).not.toHaveProperty("to");
    // The token or the address, at any level.
    expect(shop.stdout()).not.toContain(order.token);
    expect(shop.stdout()).not.toContain(alice.email);
  });

  test("when serve starts, then stdout holds only JSON lines and the human banner is on stderr", () => {
    for (const line of shop.stdout().split("\n").filter((l) => l !== "")) expect(() => JSON.parse(line)).not.toThrow();
    expect(shop.stderr()).toContain("shop is up on http://localhost:");
  });
});
