import { and, asc, eq, sql } from "drizzle-orm";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../../src/platform/db.ts";
import type { Principal } from "../../../src/platform/http/principal.ts";
import { signToken } from "../../../src/platform/http/shop-tokens.ts";
import { createHttpApp } from "../../../src/platform/http/server.ts";
import { createLogger } from "../../../src/platform/logger.ts";
import { applyEvent } from "../../../src/platform/messaging/apply-event.ts";
import { createEnvelope } from "../../../src/platform/messaging/envelope.ts";
import type { EventData, EventDefinition } from "../../../src/platform/messaging/event.ts";
import { createOutbox } from "../../../src/platform/messaging/outbox.ts";
import type { ShopModule } from "../../../src/platform/module.ts";
import { createTestDatabase, type TestDatabase } from "../../../src/test-support/database.ts";
import { ordersModule, type OrdersSettings } from "../index.ts";
import { catalogRepository } from "../infrastructure/catalog-repository.ts";
import { inbox, outbox } from "../infrastructure/schema.ts";
import { testModuleMetrics } from "../../../src/test-support/metrics.ts";
import { createAuthenticator } from "../../../src/platform/http/authenticator.ts";

export const TEST_AUTH_SECRET = "orders-test-secret-0123456789abcdef";

export interface OrdersHarness {
  database: DatabaseHandle;
  module: ShopModule;
  /** The root HTTP app (problem+json, auth) with the orders routes. */
  app: { handle(request: Request): Promise<Response> };
  close(): Promise<void>;
}

/**
 * A fresh database with the orders schema migrated, the module built on it and its routes in the root app; with
 * `settings`, its limits (none by default).
 */
export async function openOrders(label: string, settings?: OrdersSettings): Promise<OrdersHarness> {
  const testDb: TestDatabase = await createTestDatabase(label);
  const database = openDatabase(testDb.url, { max: 20, applicationName: "orders-tests" });
  const logger = createLogger("silent");
  const module = ordersModule.create({ database, logger, authenticator: createAuthenticator({ secret: TEST_AUTH_SECRET }), metrics: testModuleMetrics("orders"), settings });
  await migrateModule(database, module.name, module.migrationsFolder);
  const app = createHttpApp({ logger, authenticator: createAuthenticator({ secret: TEST_AUTH_SECRET }), readiness: {} }).use(module.routes!);
  return {
    database,
    module,
    app,
    async close() {
      await database.close();
      await testDb.drop();
    },
  };
}

export const unique = () => crypto.randomUUID().slice(0, 8).toUpperCase();

export interface Caller {
  principal: Principal;
  token: string;
}

/** A signed-in customer (or admin) with a random id. */
export async function caller(role: Principal["role"] = "customer"): Promise<Caller> {
  const sub = `${role}-${unique().toLowerCase()}`;
  const principal: Principal = { sub, email: `${sub}@example.com`, role };
  return { principal, token: await signToken(TEST_AUTH_SECRET, principal) };
}

/** Puts a new active product in the local catalog copy; returns its sku. */
export async function product(h: OrdersHarness, priceCents = 500, currency = "EUR"): Promise<string> {
  const sku = `SKU-${unique()}`;
  await catalogRepository.upsert(h.database.db, { sku, name: `Product ${sku}`, priceCents, currency, active: true }, new Date());
  return sku;
}

export interface RequestOptions {
  as?: Caller;
  body?: unknown;
  headers?: Record<string, string>;
}

export function request(h: OrdersHarness, method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.as) headers.authorization = `Bearer ${options.as.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  }
  return h.app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
}

/** Places an order over HTTP and expects 201; returns the body. */
export async function place(h: OrdersHarness, as: Caller, items: { sku: string; quantity: number }[]): Promise<{ id: string; createdAt: string }> {
  const res = await request(h, "POST", "/orders", { as, body: { items } });
  if (res.status !== 201) throw new Error(`placing an order answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; createdAt: string };
}

/**
 * Runs the module's handler for `event` the way the consumer does: in its own transaction, emitting into
 * the real outbox. Rejects with whatever the handler threw (the platform would then retry the message).
 */
export async function deliver<E extends EventDefinition>(h: OrdersHarness, event: E, data: EventData<E>): Promise<void> {
  const handler = h.module.handlers.find((candidate) => candidate.event.name === event.name);
  if (!handler) throw new Error(`orders has no handler for ${event.name}`);
  const envelope = createEnvelope(event, data, "inventory", { correlationId: `corr-${unique()}` });
  await applyEvent({ module: "orders", database: h.database, inbox, outbox: createOutbox(outbox, "orders") }, handler, envelope);
}

/** The outbox rows about one order (optionally of one event), in the order the relay publishes them. */
export async function eventsFor(h: OrdersHarness, orderId: string, name?: string) {
  const aboutOrder = sql`${outbox.envelope}->'data'->>'orderId' = ${orderId}`;
  return h.database.db
    .select()
    .from(outbox)
    .where(name === undefined ? aboutOrder : and(aboutOrder, eq(outbox.name, name)))
    .orderBy(asc(outbox.createdAt), asc(outbox.id));
}

/** How many backends of this test database are waiting for a lock right now. */
export async function lockWaiters(h: OrdersHarness): Promise<number> {
  const [row] = await h.database.sql`
    select count(*)::int as waiting from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`;
  return (row?.waiting as number | undefined) ?? 0;
}

// Response bodies are checked by the assertions themselves.
export const json = (res: Response): Promise<any> => res.json();
