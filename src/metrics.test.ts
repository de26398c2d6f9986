import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { admin, alice, startTestShop, type TestShop } from "./test-support/shop.ts";
import { commerce, newSku } from "./test-support/commerce.ts";
import { eventually } from "./test-support/eventually.ts";
import { parseSamples, sampleValue } from "./test-support/prometheus-text.ts";
import { publishRaw } from "./test-support/broker.ts";
import { resolve } from "node:path";

let t: TestShop;
let api: ReturnType<typeof commerce>;

beforeAll(async () => {
  t = await startTestShop("metrics");
  api = commerce(t);
});
afterAll(() => t?.close());

async function scrape(): Promise<string> {
  const res = await t.request("/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.text();
}

/** Waits until the scrape shows `name{labels}` at `expected`, and returns that scrape. */
function scrapeUntil(name: string, labels: Record<string, string>, expected: number): Promise<string> {
  return eventually(scrape, { accept: (text) => sampleValue(text, name, labels) === expected, what: `${name}${JSON.stringify(labels)} = ${expected}`, intervalMs: 100 });
}

describe("GET /metrics", () => {
  test("when an order is placed, confirmed and e-mailed, then the scrape counts each step and labels requests by route template", async () => {
    const sku = newSku("metrics");
    await api.createProduct(sku, 5);
    const order = await api.placeOk(alice, [{ sku, quantity: 2 }]);
    await api.orderEventually(order.id, "confirmed");
    await api.expectMails(order.id, ["order-confirmed"]);
    expect((await t.request("/no/such/route/123")).status).toBe(404);

    await scrapeUntil("shop_notification_emails_sent_total", {}, 1);
    // Requests are counted once answered (the access-log hook runs after the response went out): wait for the last one.
    const text = await scrapeUntil("shop_http_requests_total", { route: "unmatched", method: "GET", status: "404" }, 1);
    expect(sampleValue(text, "shop_orders_placed_total")).toBe(1);
    expect(sampleValue(text, "shop_orders_confirmed_total")).toBe(1);
    expect(sampleValue(text, "shop_orders_rejected_total")).toBe(0);
    expect(sampleValue(text, "shop_orders_confirmation_seconds_count")).toBe(1);
    expect(sampleValue(text, "shop_inventory_reservations_made_total")).toBe(1);
    // The route template, never the raw path: one series for every order id.
    expect(sampleValue(text, "shop_http_requests_total", { route: "/orders", method: "POST", status: "201" })).toBe(1);
    expect(sampleValue(text, "shop_http_requests_total", { route: "/orders/:id", method: "GET", status: "200" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, "shop_http_requests_total", { route: "unmatched", method: "GET", status: "404" })).toBe(1);
    expect(sampleValue(text, "shop_http_request_duration_seconds_count", { route: "/orders", method: "POST" })).toBe(1);
    const routes = new Set(parseSamples(text).flatMap((s) => (s.name === "shop_http_requests_total" ? [s.labels.route!] : [])));
    expect([...routes].filter((r) => r.includes(order.id) || r.includes("/no/such"))).toEqual([]);
    // orders relayed order-placed and order-confirmed; inventory applied the placement once, orders the product and the reservation.
    expect(sampleValue(text, "shop_outbox_confirmed_total", { module: "orders" })).toBe(2);
    expect(sampleValue(text, "shop_outbox_publish_failed_total", { module: "orders" })).toBe(0);
    expect(sampleValue(text, "shop_messages_handled_total", { module: "inventory" })).toBe(1);
    expect(sampleValue(text, "shop_messages_handled_total", { module: "orders" })).toBe(2);
    expect(sampleValue(text, "shop_messages_duplicate_total", { module: "orders" })).toBe(0);
    expect(sampleValue(text, "shop_messages_parked_total", { module: "inventory" })).toBe(0);
    expect(sampleValue(text, "shop_message_batch_duration_seconds_count", { module: "orders" })).toBeGreaterThanOrEqual(1);
    for (const module of ["orders", "inventory", "notification"]) {
      expect(sampleValue(text, "shop_consumer_up", { module })).toBe(1);
      expect(sampleValue(text, "shop_dead_letter_messages", { module })).toBe(0);
      expect(sampleValue(text, "shop_queue_messages", { module })).toBeGreaterThanOrEqual(0);
    }
    expect(sampleValue(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(sampleValue(text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(sampleValue(text, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
  });

  test("when an order is rejected for stock and another cancelled and one shipped, then each outcome is counted once", async () => {
    const before = await scrape();
    const count = (text: string, name: string) => sampleValue(text, name) ?? 0;
    const sku = newSku("metrics-outcomes");
    await api.createProduct(sku, 3);
    const rejected = await api.placeOk(alice, [{ sku, quantity: 4 }]);
    await api.orderEventually(rejected.id, "rejected");
    const cancelled = await api.confirmedOrder(alice, [{ sku, quantity: 1 }]);
    expect((await api.cancel(cancelled.id, alice)).status).toBe(200);
    const shipped = await api.confirmedOrder(alice, [{ sku, quantity: 1 }]);
    expect((await api.ship(shipped.id, admin)).status).toBe(200);
    // A refused transition changes nothing, so it counts nothing.
    expect((await api.cancel(shipped.id, alice)).status).toBe(409);

    const after = await scrapeUntil("shop_http_requests_total", { route: "/orders/:id/cancel", method: "POST", status: "409" }, 1);
    expect(count(after, "shop_orders_placed_total") - count(before, "shop_orders_placed_total")).toBe(3);
    expect(count(after, "shop_orders_rejected_total") - count(before, "shop_orders_rejected_total")).toBe(1);
    expect(count(after, "shop_inventory_reservations_rejected_total") - count(before, "shop_inventory_reservations_rejected_total")).toBe(1);
    expect(count(after, "shop_orders_confirmed_total") - count(before, "shop_orders_confirmed_total")).toBe(2);
    expect(count(after, "shop_orders_cancelled_total") - count(before, "shop_orders_cancelled_total")).toBe(1);
    expect(count(after, "shop_orders_shipped_total") - count(before, "shop_orders_shipped_total")).toBe(1);
  });

  test("when an outbox event is stuck unsent, then the outbox gauges show it and its age, and drop once it is relayed", async () => {
    const sql = t.shop.databaseOf("orders").sql;
    const id = Bun.randomUUIDv7();
    const envelope = { id, name: "orders.metrics-probe", version: 1, occurredAt: new Date().toISOString(), correlationId: id, source: "orders", data: {} };
    // Written an hour ago and held by a lease no relay may take yet: what a dead relay or an unreachable broker leaves.
    await sql`insert into orders.outbox (id, name, envelope, created_at, claimed_until)
              values (${id}, ${envelope.name}, ${JSON.stringify(envelope)}::jsonb, now() - interval '1 hour', now() + interval '1 hour')`;
    const stuck = await eventually(scrape, {
      accept: (text) => (sampleValue(text, "shop_outbox_unsent_events", { module: "orders" }) ?? 0) >= 1,
      what: "orders' outbox to show an unsent event",
      intervalMs: 200,
    });
    expect(sampleValue(stuck, "shop_outbox_oldest_unsent_age_seconds", { module: "orders" })).toBeGreaterThanOrEqual(3600);
    expect(sampleValue(stuck, "shop_outbox_unsent_events", { module: "inventory" })).toBe(0);
    expect(sampleValue(stuck, "shop_outbox_oldest_unsent_age_seconds", { module: "inventory" })).toBe(0);

    await sql`update orders.outbox set claimed_until = null where id = ${id}`;
    await scrapeUntil("shop_outbox_unsent_events", { module: "orders" }, 0);
  });

  test("when a message cannot be handled, then it is counted as parked and the dead-letter queue depth shows it", async () => {
    await publishRaw(`${t.prefix}events`, "orders.order-placed", "{ this is not an envelope");
    await scrapeUntil("shop_messages_parked_total", { module: "inventory" }, 1);
    // The broker's depths are read at most every 5 s: the gauge follows within that.
    await eventually(scrape, {
      accept: (text) => sampleValue(text, "shop_dead_letter_messages", { module: "inventory" }) === 1,
      what: "inventory's dead-letter queue depth to be 1",
      timeoutMs: 20_000,
      intervalMs: 500,
    });
  });

  test("when the example alert rules and the Grafana dashboard name a metric, then the shop exports it", async () => {
    const text = await scrape();
    // Every family the registry declares (also those with no sample yet), with the series a histogram adds.
    const exported = new Set(["up"]);
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name!);
      if (type === "histogram") for (const suffix of ["_bucket", "_count", "_sum"]) exported.add(`${name}${suffix}`);
    }
    const namesIn = (promql: string[]) => new Set(promql.flatMap((expr) => [...expr.matchAll(/\b(?:up|(?:shop|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[0])));
    const root = resolve(import.meta.dir, "..");
    const rules = (await Bun.file(`${root}/deploy/prometheus/alerts.yml`).text()).split("\n").filter((line) => line.trim().startsWith("expr:"));
    const dashboard = (await Bun.file(`${root}/deploy/grafana/dashboards/shop.json`).json()) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const panels = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    for (const [what, names] of [["alert rules", namesIn(rules)], ["dashboard", namesIn(panels)]] as const) {
      expect({ what, unknown: [...names].filter((name) => !exported.has(name)) }).toEqual({ what, unknown: [] });
      expect(names.size).toBeGreaterThan(10);
    }
  });
});
