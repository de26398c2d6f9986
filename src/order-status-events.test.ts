import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { EventSource } from "eventsource";
import { startShop, type Shop } from "./app.ts";
import { loadConfig } from "./config.ts";
import type { Principal } from "./platform/http/principal.ts";
import { createLogger } from "./platform/logger.ts";
import { commerce, newCustomer, newSku, type OrderStatus, type OrderView } from "./test-support/commerce.ts";
import { eventually } from "./test-support/eventually.ts";
import { sampleValue } from "./test-support/prometheus-text.ts";
import { admin, startTestShop, testEnv, tokenFor, type TestShop } from "./test-support/shop.ts";
import { TcpProxy } from "./test-support/tcp-proxy.ts";

// GET /orders/:id/events over real HTTP, read by a real SSE client (the `eventsource` package, its fetch adding the
// bearer token) and, where the bytes matter (heartbeats, the end of the stream), by fetch itself. Status changes
// come from the real saga (inventory confirms) and the HTTP API (cancel, ship), on this shop or on a second one.

const MAX_STREAMS = 4;
let h: TestShop;
let baseUrl: string;
let api: ReturnType<typeof commerce>;

beforeAll(async () => {
  h = await startTestShop("order_status_events", { SSE_HEARTBEAT_INTERVAL: "1s", SSE_MAX_STREAMS: String(MAX_STREAMS) });
  h.shop.http.listen({ port: 0, hostname: "127.0.0.1" });
  baseUrl = `http://127.0.0.1:${h.shop.http.server!.port}`;
  api = commerce(h);
});

afterAll(async () => {
  await h?.close();
});

interface StatusData {
  orderId: string;
  status: OrderStatus;
  version: number;
  at: string;
  reason?: string;
}

/** An EventSource on an order's stream, collecting its status events (id and data). */
async function follow(orderId: string, as: Principal, options: { lastEventId?: string; base?: string } = {}) {
  const token = await tokenFor(as);
  const events: Array<{ id: string; data: StatusData }> = [];
  let connects = 0;
  const source = new EventSource(`${options.base ?? baseUrl}/orders/${orderId}/events`, {
    fetch: (url, init) => {
      // The first request resumes from `lastEventId` when given; reconnects carry the client's own Last-Event-ID.
      const resume: Record<string, string> = connects++ === 0 && options.lastEventId !== undefined ? { "last-event-id": options.lastEventId } : {};
      return fetch(url, { signal: init.signal, headers: { ...init.headers, ...resume, authorization: `Bearer ${token}` } });
    },
  });
  source.addEventListener("status", (event) => events.push({ id: event.lastEventId, data: JSON.parse(event.data) as StatusData }));
  return {
    source,
    events,
    /** Waits until `count` status events have arrived. */
    received: (count: number) => eventually(() => events.length, { accept: (n) => n >= count, what: `${count} status event(s) on ${orderId}` }).then(() => events),
    get connects() {
      return connects;
    },
  };
}

/** The stream over plain fetch: its response, and a reader that collects the text until a condition or the end. */
async function openRaw(orderId: string, as: Principal | undefined, headers: Record<string, string> = {}, base = baseUrl) {
  const abort = new AbortController();
  const auth: Record<string, string> = as ? { authorization: `Bearer ${await tokenFor(as)}` } : {};
  const response = await fetch(`${base}/orders/${orderId}/events`, { headers: { ...auth, ...headers }, signal: abort.signal });
  let reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> } | undefined;
  const decoder = new TextDecoder();
  let text = "";
  let ended = false;
  return {
    response,
    get text() {
      return text;
    },
    /** Reads until `accept(text)` or the end of the stream, failing after `timeoutMs`. Returns whether the stream ended. */
    async readUntil(accept: (text: string) => boolean, timeoutMs = 10_000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (!accept(text) && !ended) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms; received so far:\n${text}`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const body = (reader ??= response.body!.getReader());
        const chunk = await Promise.race([
          body.read(),
          new Promise<"timeout">((resolve) => {
            timer = setTimeout(() => resolve("timeout"), left);
          }),
        ]);
        clearTimeout(timer);
        if (chunk === "timeout") continue;
        if (chunk.done) ended = true;
        else text += decoder.decode(chunk.value, { stream: true });
      }
      return ended;
    },
    close: () => abort.abort(),
  };
}

/** The `event: status` blocks of a raw stream's text, parsed. */
function statusBlocks(text: string): Array<{ id: string; data: StatusData }> {
  return text
    .split("\n\n")
    .filter((block) => block.includes("event: status"))
    .map((block) => {
      const field = (name: string) => block.split("\n").find((line) => line.startsWith(`${name}: `))!.slice(name.length + 2);
      return { id: field("id"), data: JSON.parse(field("data")) as StatusData };
    });
}

/** A product with stock and an order of one unit by a new customer, confirmed by inventory. */
async function confirmedOrder(label: string): Promise<{ order: OrderView; owner: Principal }> {
  const sku = newSku(label);
  await api.createProduct(sku, 5);
  const owner = newCustomer(label);
  return { order: await api.confirmedOrder(owner, [{ sku, quantity: 1 }]), owner };
}

/** When the order reached `status`, as GET /orders/:id shows it in its history. */
function reachedAt(order: OrderView, status: OrderStatus): string {
  return order.history.find((change) => change.status === status)!.at;
}

async function metric(name: string): Promise<number | undefined> {
  return sampleValue(await (await h.request("/metrics")).text(), name);
}

describe("GET /orders/:id/events", () => {
  test("the owner sees the order pending, then confirmed when inventory reserves, then shipped by an admin; the client is then told to stop", async () => {
    const sku = newSku("sse-flow");
    await api.createProduct(sku, 5);
    // Inventory's reservation waits for this lock, so the order stays pending until the test lets it go.
    const inventory = await h.shop.databaseOf("inventory").sql.reserve();
    try {
      await inventory`begin`;
      await inventory`select 1 from inventory.products where sku = ${sku} for update`;
      const owner = newCustomer("sse-flow");
      const placed = await api.placeOk(owner, [{ sku, quantity: 2 }]);
      const stream = await follow(placed.id, owner);

      const [first] = await stream.received(1);
      expect(first).toEqual({ id: "1", data: { orderId: placed.id, status: "pending", version: 1, at: reachedAt(placed, "pending") } });

      await inventory`commit`;
      const confirmed = await api.orderEventually(placed.id, "confirmed");
      await stream.received(2);
      expect(stream.events[1]).toEqual({ id: "2", data: { orderId: placed.id, status: "confirmed", version: 2, at: reachedAt(confirmed, "confirmed") } });

      expect((await api.ship(placed.id)).status).toBe(200);
      await stream.received(3);
      const shipped = await api.order(placed.id);
      expect(stream.events[2]).toEqual({ id: "3", data: { orderId: placed.id, status: "shipped", version: 3, at: reachedAt(shipped, "shipped") } });

      // The server ended the stream after `shipped`; the client's reconnect (Last-Event-ID 3) gets 204, and an EventSource stops there.
      await eventually(() => stream.source.readyState, { accept: (state) => state === EventSource.CLOSED, what: "the EventSource to stop reconnecting" });
      expect(stream.events).toHaveLength(3);
      expect(stream.connects).toBe(2);
    } finally {
      await inventory`rollback`.catch(() => {});
      inventory.release();
    }
  });

  test("an owner following a confirmed order gets its current status, then the cancellation with its reason, and the stream ends", async () => {
    const { order, owner } = await confirmedOrder("sse-cancel");
    const stream = await openRaw(order.id, owner);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toStartWith("text/event-stream");
    await stream.readUntil((text) => statusBlocks(text).length === 1);
    expect(stream.text).toStartWith("retry: 3000\n\n");
    expect(statusBlocks(stream.text)).toEqual([{ id: "2", data: { orderId: order.id, status: "confirmed", version: 2, at: reachedAt(order, "confirmed") } }]);

    expect((await api.cancel(order.id, owner, { reason: "changed my mind" })).status).toBe(200);
    const ended = await stream.readUntil(() => false);
    expect(ended).toBe(true);
    const cancelled = await api.order(order.id);
    expect(statusBlocks(stream.text)).toEqual([
      { id: "2", data: { orderId: order.id, status: "confirmed", version: 2, at: reachedAt(order, "confirmed") } },
      { id: "3", data: { orderId: order.id, status: "cancelled", version: 3, at: reachedAt(cancelled, "cancelled"), reason: "changed my mind" } },
    ]);
  });

  test("an order already final at connect: its final status, then the end of the stream", async () => {
    const { order, owner } = await confirmedOrder("sse-final");
    expect((await api.cancel(order.id, owner)).status).toBe(200);
    const stream = await openRaw(order.id, admin);
    expect(stream.response.status).toBe(200);
    expect(await stream.readUntil(() => false)).toBe(true);
    expect(statusBlocks(stream.text).map((e) => [e.id, e.data.status, e.data.reason])).toEqual([["3", "cancelled", "cancelled by customer"]]);
  });

  test("Last-Event-ID resumes: only the changes after it, then live ones; at the final version the answer is 204", async () => {
    const { order, owner } = await confirmedOrder("sse-resume");

    // Seen up to version 2, the current one: nothing until the next change.
    const live = await follow(order.id, owner, { lastEventId: "2" });
    await eventually(() => metric("shop_orders_status_subscriptions"), { accept: (n) => n === 1, what: "the stream to be subscribed" });
    expect(live.events).toEqual([]);
    expect((await api.ship(order.id)).status).toBe(200);
    await live.received(1);
    expect(live.events.map((e) => [e.id, e.data.status])).toEqual([["3", "shipped"]]);
    live.source.close();

    // Seen only version 1 (pending): confirmed and shipped from the history, then the end.
    const missed = await openRaw(order.id, owner, { "last-event-id": "1" });
    expect(await missed.readUntil(() => false)).toBe(true);
    expect(statusBlocks(missed.text).map((e) => [e.id, e.data.status])).toEqual([
      ["2", "confirmed"],
      ["3", "shipped"],
    ]);

    const done = await fetch(`${baseUrl}/orders/${order.id}/events`, { headers: { authorization: `Bearer ${await tokenFor(owner)}`, "last-event-id": "3" } });
    expect(done.status).toBe(204);
  });

  test("a stranger gets 404, no token 401, a malformed Last-Event-ID 422, all problem documents; nothing is left open", async () => {
    const { order, owner } = await confirmedOrder("sse-access");
    const stranger = await openRaw(order.id, newCustomer("sse-stranger"));
    expect(stranger.response.status).toBe(404);
    expect(stranger.response.headers.get("content-type")).toStartWith("application/problem+json");
    expect(await stranger.response.json()).toMatchObject({ status: 404, code: "ORDERS.NOT_FOUND" });

    const anonymous = await openRaw(order.id, undefined);
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.response.headers.get("content-type")).toStartWith("application/problem+json");
    await anonymous.response.body?.cancel();

    const tokenInQuery = await fetch(`${baseUrl}/orders/${order.id}/events?access_token=${await tokenFor(owner)}`);
    expect(tokenInQuery.status).toBe(401);
    await tokenInQuery.body?.cancel();

    for (const malformed of ["abc", "-1", "1.5", "01", "9999999999"]) {
      const res = await openRaw(order.id, owner, { "last-event-id": malformed });
      expect(res.response.status).toBe(422);
      const problem = (await res.response.json()) as { errors: Array<{ in: string; field: string }> };
      expect(problem.errors).toEqual([expect.objectContaining({ in: "headers", field: "/last-event-id" })]);
    }
    expect(await metric("shop_orders_status_streams_open")).toBe(0);
    expect(await metric("shop_orders_status_subscriptions")).toBe(0);
  });

  test("heartbeat comments arrive every SSE_HEARTBEAT_INTERVAL on a quiet stream", async () => {
    const { order, owner } = await confirmedOrder("sse-heartbeat");
    const stream = await openRaw(order.id, owner);
    const started = Date.now();
    await stream.readUntil((text) => text.split(": heartbeat\n\n").length - 1 >= 2, 5_000);
    // Two at a 1 s interval: not before about 2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(statusBlocks(stream.text)).toHaveLength(1);
    stream.close();
  });

  test("at most SSE_MAX_STREAMS streams: one more is 503 with Retry-After; a client going away frees its place and its subscription", async () => {
    const { order, owner } = await confirmedOrder("sse-cap");
    const streams = [];
    for (let i = 0; i < MAX_STREAMS; i++) {
      const stream = await openRaw(order.id, owner);
      await stream.readUntil((text) => statusBlocks(text).length === 1);
      streams.push(stream);
    }
    expect(await metric("shop_orders_status_streams_open")).toBe(MAX_STREAMS);
    expect(await metric("shop_orders_status_subscriptions")).toBe(MAX_STREAMS);

    const refused = await openRaw(order.id, owner);
    expect(refused.response.status).toBe(503);
    expect(refused.response.headers.get("retry-after")).toMatch(/^[0-9]+$/);
    expect(await refused.response.json()).toMatchObject({ status: 503, code: "STREAMS.TOO_MANY" });

    for (const stream of streams) stream.close();
    await eventually(async () => [await metric("shop_orders_status_streams_open"), await metric("shop_orders_status_subscriptions")], {
      accept: ([open, subscribed]) => open === 0 && subscribed === 0,
      what: "every stream and subscription to be gone",
    });
    const again = await openRaw(order.id, owner);
    expect(again.response.status).toBe(200);
    again.close();
    await eventually(() => metric("shop_orders_status_streams_open"), { accept: (n) => n === 0, what: "the last stream to close" });
  });
});

test("/docs/json documents the route: a text/event-stream 200, 204, and its problems", async () => {
  const doc = (await (await h.request("/docs/json")).json()) as { paths: Record<string, { get: { responses: Record<string, { content?: Record<string, unknown> }> } }> };
  const { responses } = doc.paths["/orders/{id}/events"]!.get;
  expect(Object.keys(responses["200"]!.content!)).toEqual(["text/event-stream"]);
  expect(Object.keys(responses).sort()).toEqual(["200", "204", "401", "404", "422", "500", "503"]);
});

describe("with a second shop instance on the same database", () => {
  let second: Shop;
  let secondUrl: string;
  const IDLE_TIMEOUT_S = 1;

  beforeAll(async () => {
    // Orders only, on the first shop's database and broker prefix; the default 15 s heartbeat.
    const config = loadConfig(testEnv(h.database, h.prefix, { MODULES: "orders" }));
    second = await startShop(config, createLogger(config.logLevel));
    // An idle timeout far below the heartbeat interval: a stream must not depend on it.
    second.http.listen({ port: 0, hostname: "127.0.0.1", idleTimeout: IDLE_TIMEOUT_S });
    secondUrl = `http://127.0.0.1:${second.http.server!.port}`;
  });

  afterAll(async () => {
    await second?.stop();
  });

  test("a change made through the other instance reaches the stream", async () => {
    const { order, owner } = await confirmedOrder("sse-cross");
    const stream = await follow(order.id, owner);
    await stream.received(1);
    const res = await second.http.handle(
      new Request(`http://localhost/orders/${order.id}/ship`, { method: "POST", headers: { authorization: `Bearer ${await tokenFor(admin)}` } }),
    );
    expect(res.status).toBe(200);
    await stream.received(2);
    expect(stream.events.map((e) => [e.id, e.data.status])).toEqual([
      ["2", "confirmed"],
      ["3", "shipped"],
    ]);
    stream.source.close();
  });

  test("a stream outlives the server's idle timeout: quiet for several timeouts, it still delivers the next change", async () => {
    const { order, owner } = await confirmedOrder("sse-idle");
    const stream = await openRaw(order.id, owner, {}, secondUrl);
    await stream.readUntil((text) => statusBlocks(text).length === 1);
    // The quiet period is the point of the test: three idle timeouts with no byte on the connection.
    await Bun.sleep(3 * IDLE_TIMEOUT_S * 1000);
    expect((await api.cancel(order.id, owner)).status).toBe(200);
    expect(await stream.readUntil(() => false)).toBe(true);
    expect(statusBlocks(stream.text).map((e) => [e.id, e.data.status])).toEqual([
      ["2", "confirmed"],
      ["3", "cancelled"],
    ]);
  });

  test("stop with a stream open ends the stream and completes quickly", async () => {
    const { order, owner } = await confirmedOrder("sse-stop");
    const stream = await openRaw(order.id, owner, {}, secondUrl);
    await stream.readUntil((text) => statusBlocks(text).length === 1);
    const started = Date.now();
    await second.stop();
    // SHUTDOWN_TIMEOUT_MS is 10 s: the drain alone would wait 5 s for a stream that does not end.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await stream.readUntil(() => false, 2_000)).toBe(true);
  });
});

describe("when the orders database connection drops", () => {
  let proxy: TcpProxy;
  let proxied: Shop;
  let proxiedUrl: string;

  beforeAll(async () => {
    proxy = await new TcpProxy("127.0.0.1", Number(new URL(h.database.urls.orders).port || 5432)).start();
    const through = new URL(h.database.urls.orders);
    through.host = `127.0.0.1:${proxy.port}`;
    // Orders only, its database reached through the proxy; the first shop changes orders directly.
    const config = loadConfig(testEnv(h.database, h.prefix, { MODULES: "orders", ORDERS_DATABASE_URL: through.toString() }));
    proxied = await startShop(config, createLogger(config.logLevel));
    proxied.http.listen({ port: 0, hostname: "127.0.0.1" });
    proxiedUrl = `http://127.0.0.1:${proxied.http.server!.port}`;
  });

  afterAll(async () => {
    proxy?.restore();
    await proxied?.stop();
    await proxy?.stop();
  });

  test("a change committed while the listener was away reaches the stream once it has reconnected", async () => {
    const { order, owner } = await confirmedOrder("sse-reconnect");
    const stream = await openRaw(order.id, owner, {}, proxiedUrl);
    await stream.readUntil((text) => statusBlocks(text).length === 1);

    // Every connection of this instance to PostgreSQL drops, LISTEN included: the NOTIFY of this ship is never heard.
    proxy.down();
    expect((await api.ship(order.id)).status).toBe(200);
    proxy.restore();

    expect(await stream.readUntil(() => false, 20_000)).toBe(true);
    expect(statusBlocks(stream.text).map((e) => [e.id, e.data.status])).toEqual([
      ["2", "confirmed"],
      ["3", "shipped"],
    ]);
  });
});
