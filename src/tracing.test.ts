import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MODULE_NAMES } from "./config.ts";
import { deleteBrokerObjects, testPrefix } from "./test-support/broker.ts";
import { createShopDatabases, type ShopDatabases } from "./test-support/database.ts";
import { eventually } from "./test-support/eventually.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./test-support/otlp-receiver.ts";
import { httpRequest, spawnShop, stopAllProcesses, type ShopProcess } from "./test-support/process.ts";
import { admin, alice, TEST_RETRY_DELAYS_MS, testEnv } from "./test-support/shop.ts";
import packageJson from "../package.json" with { type: "json" };

// A whole shop process with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a receiver this test runs: what an operator's
// trace backend would get for one order.
let database: ShopDatabases;
let prefix: string;
let receiver: OtlpReceiver;
let shop: ShopProcess;

const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

beforeAll(async () => {
  database = await createShopDatabases("tracing");
  prefix = testPrefix("tracing");
  receiver = startOtlpReceiver();
  shop = await spawnShop(testEnv(database, prefix, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100" }));
});
afterAll(async () => {
  await stopAllProcesses();
  await receiver?.stop();
  await database?.drop();
  if (prefix) await deleteBrokerObjects(prefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS);
});

async function addProduct(): Promise<string> {
  const sku = `TRACE-${crypto.randomUUID().slice(0, 8)}`;
  const res = await httpRequest(shop.baseUrl, `/products/${sku}`, { method: "PUT", as: admin, json: { name: sku, priceCents: 500, currency: "EUR", stock: 5 } });
  expect(res.status).toBe(201);
  return sku;
}

/** Places an order of one unit once orders knows the product's price (it learns it by event). */
async function placeOrder(sku: string, headers: Record<string, string> = {}): Promise<Response> {
  return eventually(() => httpRequest(shop.baseUrl, "/orders", { method: "POST", as: alice, headers, json: { items: [{ sku, quantity: 1 }] } }), {
    accept: (r) => r.status !== 422,
    what: "orders to know the product's price",
  });
}

describe("tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)", () => {
  test("one order's trace goes from POST /orders through the outbox, the relay and every module to the e-mail, each span with module, event, message id and order id", async () => {
    const sku = await addProduct();
    const placed = await placeOrder(sku);
    expect(placed.status).toBe(201);
    const orderId = ((await placed.json()) as { id: string }).id;
    const traceId = placed.headers.get("x-trace-id");
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const trace = await eventually(() => receiver.spans().filter((s) => s.traceId === traceId), {
      accept: (spans) => spans.some((s) => s.name === "send e-mail order-confirmed"),
      timeoutMs: 30_000,
      what: "the e-mail's span in the order's trace",
    });
    const named = (name: string): ReceivedSpan => {
      const found = trace.filter((s) => s.name === name);
      expect(found.map((s) => s.name)).toEqual([name]);
      return found[0]!;
    };
    const chain = [
      named("POST /orders"),
      named("outbox insert orders.order-placed"),
      named("publish orders.order-placed"),
      named("process orders.order-placed"),
      named("outbox insert inventory.stock-reserved"),
      named("publish inventory.stock-reserved"),
      named("process inventory.stock-reserved"),
      named("outbox insert orders.order-confirmed"),
      named("publish orders.order-confirmed"),
      named("process orders.order-confirmed"),
      named("send e-mail order-confirmed"),
    ];
    // Each span is the child of the one before it; the request's span is the root.
    expect(chain[0]!.parentSpanId).toBeUndefined();
    for (let i = 1; i < chain.length; i++) expect({ span: chain[i]!.name, parent: chain[i]!.parentSpanId }).toEqual({ span: chain[i]!.name, parent: chain[i - 1]!.spanId });

    const [http, insertPlaced, publishPlaced, reserve, insertReserved, publishReserved, confirm, insertConfirmed, publishConfirmed, record, send] = chain as [
      ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan,
    ];
    expect(http.kind).toBe(SPAN_KIND.server);
    expect(http.attributes).toMatchObject({ "http.request.method": "POST", "http.route": "/orders", "http.response.status_code": 201 });

    const about = (module: string, event: string, messageId: unknown) => ({
      "shop.module": module,
      "shop.event.name": event,
      "messaging.message.id": messageId,
      "shop.order.id": orderId,
    });
    // One message id per event, the same on its insert, its publish and its processing.
    const placedId = insertPlaced.attributes["messaging.message.id"];
    const reservedId = insertReserved.attributes["messaging.message.id"];
    const confirmedId = insertConfirmed.attributes["messaging.message.id"];
    for (const id of [placedId, reservedId, confirmedId]) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set([placedId, reservedId, confirmedId]).size).toBe(3);

    expect(insertPlaced.attributes).toMatchObject(about("orders", "orders.order-placed", placedId));
    expect(publishPlaced.attributes).toMatchObject(about("orders", "orders.order-placed", placedId));
    expect(reserve.attributes).toMatchObject(about("inventory", "orders.order-placed", placedId));
    expect(insertReserved.attributes).toMatchObject(about("inventory", "inventory.stock-reserved", reservedId));
    expect(publishReserved.attributes).toMatchObject(about("inventory", "inventory.stock-reserved", reservedId));
    expect(confirm.attributes).toMatchObject(about("orders", "inventory.stock-reserved", reservedId));
    expect(insertConfirmed.attributes).toMatchObject(about("orders", "orders.order-confirmed", confirmedId));
    expect(publishConfirmed.attributes).toMatchObject(about("orders", "orders.order-confirmed", confirmedId));
    expect(record.attributes).toMatchObject(about("notification", "orders.order-confirmed", confirmedId));
    expect(send.attributes).toMatchObject({ ...about("notification", "orders.order-confirmed", confirmedId), "shop.email.template": "order-confirmed" });
    expect([publishPlaced.kind, reserve.kind, send.kind]).toEqual([SPAN_KIND.producer, SPAN_KIND.consumer, SPAN_KIND.client]);

    expect(http.resource).toMatchObject({ "service.name": "shop", "service.version": packageJson.version, "shop.modules": ["orders", "inventory", "notification"] });
    expect(receiver.refused()).toEqual([]);
  }, 60_000);

  test("an incoming traceparent is continued: the response names its trace id and the request's span is its child", async () => {
    const traceId = crypto.randomUUID().replaceAll("-", "");
    const parentSpanId = traceId.slice(0, 16);
    const res = await httpRequest(shop.baseUrl, "/products", { headers: { traceparent: `00-${traceId}-${parentSpanId}-01` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-trace-id")).toBe(traceId);
    const span = await eventually(() => receiver.spans().find((s) => s.traceId === traceId), { timeoutMs: 30_000, what: "the request's span" });
    expect(span).toMatchObject({ name: "GET /products", parentSpanId, kind: SPAN_KIND.server });
  }, 60_000);

  test("a malformed traceparent is ignored: the request gets a trace of its own", async () => {
    const res = await httpRequest(shop.baseUrl, "/products", { headers: { traceparent: "00-not-a-trace-01" } });
    expect(res.status).toBe(200);
    const traceId = res.headers.get("x-trace-id");
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const span = await eventually(() => receiver.spans().find((s) => s.traceId === traceId), { timeoutMs: 30_000, what: "the request's span" });
    expect(span?.parentSpanId).toBeUndefined();
  }, 60_000);
});
