import { loadConfig, type Config } from "../config.ts";
import { startShop, type Shop } from "../app.ts";
import { createLogger } from "../platform/logger.ts";
import type { Principal } from "../platform/http/principal.ts";
import { signToken } from "../platform/http/shop-tokens.ts";
import { MODULE_NAMES } from "../config.ts";
import { createShopDatabases, databaseEnv, type ShopDatabases, type TestDatabase } from "./database.ts";
import { deleteBrokerObjects, TEST_AMQP_URL, testPrefix } from "./broker.ts";

export const TEST_AUTH_SECRET = "test-secret-0123456789-0123456789-abcdef";
export const TEST_RETRY_DELAYS_MS = [100, 300];

/** Environment for a shop under test: its own database and AMQP prefix, quick retries and polling, no rate limits or cap. */
export function testEnv(database: TestDatabase | ShopDatabases, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: "test",
    PORT: "0",
    ...databaseEnv(database),
    AMQP_URL: TEST_AMQP_URL,
    AMQP_PREFIX: prefix,
    AUTH_SECRET: TEST_AUTH_SECRET,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    RETRY_DELAYS_MS: TEST_RETRY_DELAYS_MS.join(","),
    OUTBOX_POLL_MS: "200",
    SHUTDOWN_TIMEOUT_MS: "10000",
    // Load and fault tests place and browse far faster than any shopper; the limits have tests of their own.
    RATE_LIMIT_ORDERS: "0",
    RATE_LIMIT_PUBLIC: "0",
    ORDERS_MAX_OPEN_UNITS_PER_SKU: "0",
    ...extra,
  };
}

export interface TestShop {
  shop: Shop;
  config: Config;
  /** Its databases: one for all modules, or one per module (TEST_SEPARATE_DATABASES=1). */
  database: ShopDatabases;
  prefix: string;
  /** Sends a request to the in-process app (no socket). */
  request(path: string, init?: RequestInit & { as?: Principal; json?: unknown }): Promise<Response>;
  /** Stops the shop, drops its database and deletes its exchanges and queues. */
  close(): Promise<void>;
}

/**
 * Starts a whole shop in this process against the real PostgreSQL and RabbitMQ: on one fresh database, or on one per
 * module with `separateDatabases` (default: TEST_SEPARATE_DATABASES=1).
 */
export async function startTestShop(label: string, extra: Record<string, string> = {}, options: { separateDatabases?: boolean } = {}): Promise<TestShop> {
  const database = await createShopDatabases(label, { separate: options.separateDatabases });
  const prefix = testPrefix(label);
  const config = loadConfig(testEnv(database, prefix, extra));
  const shop = await startShop(config, createLogger(config.logLevel), { seed: false });
  await shop.broker.connection.ready;
  return {
    shop,
    config,
    database,
    prefix,
    request: (path, init = {}) => request(shop, path, init),
    async close() {
      await shop.stop();
      await database.drop();
      await deleteBrokerObjects(prefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS);
    },
  };
}

export const alice: Principal = { sub: "alice", email: "alice@example.com", role: "customer" };
export const bob: Principal = { sub: "bob", email: "bob@example.com", role: "customer" };
export const admin: Principal = { sub: "admin", email: "admin@example.com", role: "admin" };

export function tokenFor(principal: Principal): Promise<string> {
  return signToken(TEST_AUTH_SECRET, principal);
}

async function request(shop: Shop, path: string, init: RequestInit & { as?: Principal; json?: unknown }): Promise<Response> {
  const { as, json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (as) headers.set("authorization", `Bearer ${await tokenFor(as)}`);
  if (json !== undefined) headers.set("content-type", "application/json");
  return shop.http.handle(
    new Request(`http://localhost${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body }),
  );
}
