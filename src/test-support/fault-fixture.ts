import { expect } from "bun:test";
import postgres from "postgres";
import { MODULE_NAMES, type ModuleName } from "../config.ts";
import type { Principal } from "../platform/http/principal.ts";
import { deleteBrokerObjects, TEST_AMQP_URL, testPrefix } from "./broker.ts";
import { createShopDatabases, type ShopDatabases } from "./database.ts";
import { eventually } from "./eventually.ts";
import { httpRequest, stopAllProcesses, type ShopProcess } from "./process.ts";
import { admin, TEST_RETRY_DELAYS_MS, testEnv } from "./shop.ts";
import { TcpProxy } from "./tcp-proxy.ts";

// What every fault test (src/faults/) stands on: its own database and AMQP prefix, a direct connection for
// assertions, TCP proxies in front of PostgreSQL or RabbitMQ, and the products the load orders.

export interface FaultFixture {
  /** One database for all modules, or one per module (TEST_SEPARATE_DATABASES=1). */
  database: ShopDatabases;
  prefix: string;
  /** A direct connection (never through a proxy) to orders' database, for sync points and assertions. */
  sql: postgres.Sql;
  /** A direct connection to a module's database (the same one for all modules unless they have their own). */
  sqlOf(module: ModuleName): postgres.Sql;
  /** The shop's environment with direct URLs (what `shop check` uses), plus `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** A proxy in front of the real service, stopped by `close()`. */
  proxy(target: "postgres" | "rabbitmq"): Promise<TcpProxy>;
  /** Kills every process the file started, stops the proxies, drops the database and the broker objects. */
  close(): Promise<void>;
}

export async function createFaultFixture(label: string): Promise<FaultFixture> {
  const database = await createShopDatabases(label);
  const prefix = testPrefix(label);
  const connections = new Map<string, postgres.Sql>();
  const sqlOf = (module: ModuleName) => {
    const url = database.urls[module];
    if (!connections.has(url)) connections.set(url, postgres(url, { max: 3, onnotice: () => {} }));
    return connections.get(url)!;
  };
  const proxies: TcpProxy[] = [];
  return {
    database,
    prefix,
    sql: sqlOf("orders"),
    sqlOf,
    env: (extra = {}) => testEnv(database, prefix, extra),
    async proxy(target) {
      const url = new URL(target === "postgres" ? database.url : TEST_AMQP_URL);
      const proxy = await new TcpProxy(url.hostname, Number(url.port || (target === "postgres" ? 5432 : 5672))).start();
      proxies.push(proxy);
      return proxy;
    },
    async close() {
      await stopAllProcesses();
      for (const proxy of proxies) await proxy.stop().catch(() => {});
      for (const sql of connections.values()) await sql.end({ timeout: 5 }).catch(() => {});
      await database.drop();
      await deleteBrokerObjects(prefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS);
    },
  };
}

/** `url` with its port replaced by the proxy's: the same service, reached through the proxy. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(proxy.port);
  return u.toString();
}

/** Customers no other test uses. */
export function newCustomers(label: string, count: number): Principal[] {
  const run = crypto.randomUUID().slice(0, 6);
  return Array.from({ length: count }, (_, i) => {
    const sub = `${label}-${run}-${i}`;
    return { sub, email: `${sub}@example.com`, role: "customer" as const };
  });
}

/**
 * Creates `count` products with `stock` units each through the inventory API, then waits until orders
 * knows their prices (they travel by event). Returns each sku's initial on-hand stock.
 */
export async function createProducts(fixture: FaultFixture, inventoryUrl: string, label: string, count: number, stock: number): Promise<Record<string, number>> {
  const run = crypto.randomUUID().slice(0, 6);
  const skus = Array.from({ length: count }, (_, i) => `${label}-${run}-${i}`.toUpperCase());
  for (const sku of skus) {
    const res = await httpRequest(inventoryUrl, `/products/${sku}`, {
      method: "PUT",
      as: admin,
      json: { name: `Product ${sku}`, priceCents: 250, currency: "EUR", stock },
    });
    expect(res.status).toBe(201);
  }
  await eventually(async () => (await fixture.sql<{ n: number }[]>`select count(*)::int as n from orders.catalog where sku = any(${skus})`)[0]!.n, {
    accept: (n) => n === skus.length,
    timeoutMs: 15_000,
    what: `orders to know the prices of ${skus.join(", ")}`,
  });
  return Object.fromEntries(skus.map((sku) => [sku, stock]));
}

/** Readiness entries of the three modules' consumers, all in one state. */
export function consumerChecks(state: "up" | "down"): Record<string, string> {
  return { "orders.consumer": state, "inventory.consumer": state, "notification.consumer": state };
}

/** GET /health/ready as a load balancer sees it. */
export interface Readiness {
  /** The HTTP status: 200 ready (ok or degraded), 503 not. */
  status: number;
  /** The body's status: `ok`, `degraded` or `unavailable`. */
  state: string;
  /** Which dependency is up or down. */
  checks: Record<string, string>;
}

/** GET /health/ready: the HTTP status, the body's status and which dependency is up or down. */
export async function readiness(baseUrl: string): Promise<Readiness> {
  const res = await httpRequest(baseUrl, "/health/ready", { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { status: string; checks: Record<string, string> };
  return { status: res.status, state: body.status, checks: body.checks };
}

/** Polls readiness until `accept` holds; returns the answer seen. */
export function readinessEventually(shop: ShopProcess, accept: (r: Readiness) => boolean, what: string, timeoutMs = 15_000): Promise<Readiness> {
  return eventually(() => readiness(shop.baseUrl), { accept, what, timeoutMs, intervalMs: 100 });
}

/** What a fault interrupted: orders inventory has not answered yet, events not yet published. */
export interface Unfinished {
  pendingOrders: number;
  unsentEvents: number;
}

export async function unfinishedWork(fixture: FaultFixture): Promise<Unfinished> {
  const [pending] = await fixture.sqlOf("orders")<{ n: number }[]>`select count(*)::int as n from orders.orders where status = 'pending'`;
  let unsentEvents = 0;
  for (const module of MODULE_NAMES) {
    const sql = fixture.sqlOf(module);
    unsentEvents += (await sql<{ n: number }[]>`select count(*)::int as n from ${sql(`${module}.outbox`)} where sent_at is null`)[0]!.n;
  }
  return { pendingOrders: pending!.n, unsentEvents };
}

/** The one line a fault test prints, which the release notes quote. */
export function printFigures(label: string, figures: Record<string, unknown>): void {
  const text = Object.entries(figures)
    .map(([key, value]) => `${key} ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(", ");
  console.log(`[fault figures] ${label}: ${text}`);
}
