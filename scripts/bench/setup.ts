/**
 * Setup: a throwaway database and AMQP prefix, the shop started (one process or --split), tokens, a
 * catalog with ample stock, and warm-up orders until orders knows every price and the saga works end to end.
 */
import type { Principal } from "../../src/platform/http/principal.ts";
import { signToken } from "../../src/platform/http/shop-tokens.ts";
import { TEST_AMQP_URL, testPrefix } from "../../src/test-support/broker.ts";
import { createTestDatabase } from "../../src/test-support/database.ts";
import { RETRY_DELAYS_MS, run } from "./context.ts";
import { pgDatabases } from "./cpu.ts";
import { call, pool, until, type Answer } from "./http.ts";
import { BacklogProbe } from "./backlog.ts";
import type { Options } from "./options.ts";
import { enableStatements, ShopDb } from "./postgres-stats.ts";
import { spawnShop } from "./processes.ts";
import { ms, prng } from "./stats.ts";

const MAX_LINES_PER_ORDER = 50;
const STOCK_PER_PRODUCT = 1_000_000;

export interface Customer {
  sub: string;
  token: string;
}

export interface Shop {
  /** Base URL serving the orders module, and the one serving inventory (the same one unless --split). */
  orders: string;
  inventory: string;
  adminToken: string;
  customers: Customer[];
  skus: string[];
  /** Seeded: the same orders every run. */
  random: () => number;
  db: ShopDb;
  /** "" when pg_stat_statements can be read, else why not. */
  statementsUnavailable: string;
  backlog: BacklogProbe;
  databaseName: string;
  topology: string;
  runner: string;
  startupS: number;
  pricesKnownMs: number;
  warmupFinalMs: number;
  warmupOrders: number;
}

function shopEnv(options: Options, databaseUrl: string, prefix: string, secret: string): Record<string, string> {
  const env: Record<string, string> = {
    NODE_ENV: "production",
    PORT: "0",
    LOG_LEVEL: "warn",
    DATABASE_URL: databaseUrl,
    AMQP_URL: TEST_AMQP_URL,
    AMQP_PREFIX: prefix,
    AUTH_SECRET: secret,
    RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(","),
    // A few customers and one address stand for a crowd: the limits are as high as they go, so their checks run on
    // every request (their cost is measured) and never refuse one.
    RATE_LIMIT_ORDERS: "100000",
    RATE_LIMIT_PUBLIC: "1000000",
    ORDERS_MAX_OPEN_UNITS_PER_SKU: "1000000",
  };
  return env;
}

async function spawnShops(options: Options, env: Record<string, string>): Promise<[string, string]> {
  if (!options.split) {
    const shop = await spawnShop("shop", options.binary, env);
    return [shop.baseUrl, shop.baseUrl];
  }
  const [orders, inventory] = await Promise.all([
    spawnShop("orders", options.binary, { ...env, MODULES: "orders" }),
    spawnShop("inventory+notification", options.binary, { ...env, MODULES: "inventory,notification" }),
  ]);
  return [orders.baseUrl, inventory.baseUrl];
}

async function createCatalog(inventory: string, adminToken: string, count: number, random: () => number): Promise<string[]> {
  const skus = Array.from({ length: count }, (_, i) => `BENCH-${String(i + 1).padStart(4, "0")}`);
  await pool(skus.length, 8, async (i) => {
    const sku = skus[i]!;
    const res = await call(inventory, `/products/${sku}`, {
      method: "PUT",
      token: adminToken,
      json: { name: `Bench product ${i + 1}`, priceCents: 100 + Math.floor(random() * 9900), currency: "EUR", stock: STOCK_PER_PRODUCT },
    });
    if (res.status !== 201) throw new Error(`PUT /products/${sku} answered ${res.status}: ${JSON.stringify(res.body)}`);
  });
  return skus;
}

/** One order per chunk of 50 skus: 422 until orders has every price; then waits for them to be confirmed. */
async function warmUp(orders: string, token: string, skus: string[]): Promise<{ pricesKnownMs: number; finalMs: number; ids: string[] }> {
  const started = performance.now();
  const ids: string[] = [];
  for (let from = 0; from < skus.length; from += MAX_LINES_PER_ORDER) {
    const items = skus.slice(from, from + MAX_LINES_PER_ORDER).map((sku) => ({ sku, quantity: 1 }));
    let last: Answer | undefined;
    await until("orders to know every price", 30_000, 25, async () => {
      last = await call(orders, "/orders", { method: "POST", token, json: { items } });
      if (last.status === 201) return true;
      if (last.status !== 422) throw new Error(`warm-up POST /orders answered ${last.status}: ${JSON.stringify(last.body)}`);
      return false;
    });
    ids.push((last!.body as { id: string }).id);
  }
  const pricesKnownMs = performance.now() - started;
  const finalMs = await until("the warm-up orders to be final", 30_000, 25, async () => {
    for (const id of ids) {
      const res = await call(orders, `/orders/${id}`, { token });
      if ((res.body as { status?: string } | null)?.status !== "confirmed") return false;
    }
    return true;
  });
  return { pricesKnownMs, finalMs, ids };
}

export async function setUp(options: Options): Promise<Shop> {
  const startedAt = performance.now();
  const secret = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;
  const database = await createTestDatabase("bench");
  run.databases.push(database);
  pgDatabases.add(database.name);
  const prefix = (run.prefix = testPrefix("bench"));
  const db = new ShopDb(database.url);
  const statementsUnavailable = await enableStatements(db);
  const topology = options.split ? "split: orders | inventory,notification" : "one process: orders,inventory,notification";
  const runner = options.binary ? `binary ${options.binary}` : "bun src/main.ts";
  console.log(`bench: ${runner}, ${topology}; database ${database.name}, prefix ${prefix}`);

  const [orders, inventory] = await spawnShops(options, shopEnv(options, database.url, prefix, secret));
  const startupS = (performance.now() - startedAt) / 1000;
  console.log(`· started and ready in ${startupS.toFixed(1)} s (${run.spawned.map((p) => `${p.name} ${p.baseUrl}`).join(", ")})`);

  const sign = (principal: Principal) => signToken(secret, principal, { expiresIn: "4h" });
  const adminToken = await sign({ sub: "bench-admin", email: "admin@bench.example", role: "admin" });
  const warmupToken = await sign({ sub: "bench-warmup", email: "warmup@bench.example", role: "customer" });
  const customers = await Promise.all(
    Array.from({ length: options.customers }, async (_, i) => {
      const sub = `bench-c${i + 1}`;
      return { sub, token: await sign({ sub, email: `${sub}@bench.example`, role: "customer" }) };
    }),
  );
  const random = prng(42);
  const skus = await createCatalog(inventory, adminToken, options.products, random);
  const warm = await warmUp(orders, warmupToken, skus);
  console.log(
    `· ${skus.length} products created; orders knew every price ${ms(warm.pricesKnownMs)} ms after the last PUT; ` +
      `${warm.ids.length} warm-up order(s) confirmed ${ms(warm.finalMs)} ms later`,
  );
  const backlog = new BacklogProbe(db, prefix);
  return {
    orders, inventory, adminToken, customers, skus, random, db, statementsUnavailable, backlog,
    databaseName: database.name, topology, runner, startupS,
    pricesKnownMs: warm.pricesKnownMs, warmupFinalMs: warm.finalMs, warmupOrders: warm.ids.length,
  };
}

/** 1–3 random lines of 1–3 units each, distinct skus. */
export function orderPlan(shop: Shop): Array<{ sku: string; quantity: number }> {
  const { random, skus } = shop;
  const lines = 1 + Math.floor(random() * 3);
  const chosen = new Set<string>();
  while (chosen.size < Math.min(lines, skus.length)) chosen.add(skus[Math.floor(random() * skus.length)]!);
  return [...chosen].map((sku) => ({ sku, quantity: 1 + Math.floor(random() * 3) }));
}
