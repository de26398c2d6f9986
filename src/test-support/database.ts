import postgres from "postgres";
import { MODULE_DATABASE_VARIABLES, MODULE_NAMES, type ModuleName } from "../config.ts";

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database (terminating leftover connections). */
  drop(): Promise<void>;
}

/** A fresh, empty database for one test file: `shop_test_<label>_<random>`. */
export async function createTestDatabase(label = "t"): Promise<TestDatabase> {
  const name = `shop_test_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => dropDatabase(name),
  };
}

/**
 * TEST_SEPARATE_DATABASES=1: every shop the test harnesses start (startTestShop, the fault fixture, the split
 * tests) gets one database per module, through ORDERS_DATABASE_URL, INVENTORY_DATABASE_URL and
 * NOTIFICATION_DATABASE_URL; its DATABASE_URL then names a database that is never created.
 */
export const SEPARATE_DATABASES = process.env.TEST_SEPARATE_DATABASES === "1";

/** The databases of one shop under test. */
export interface ShopDatabases extends TestDatabase {
  /** Each module's database: `url` for all three, or one database each. */
  urls: Record<ModuleName, string>;
  /** Whether each module has a database of its own. */
  separate: boolean;
}

/**
 * The databases of a shop under test: one fresh database for all modules, or — with `separate` (default:
 * TEST_SEPARATE_DATABASES) — one per module (`<name>_orders`, …) and a DATABASE_URL (`url`) no module uses.
 */
export async function createShopDatabases(label = "t", options: { separate?: boolean } = {}): Promise<ShopDatabases> {
  const separate = options.separate ?? SEPARATE_DATABASES;
  if (!separate) {
    const shared = await createTestDatabase(label);
    return { ...shared, urls: { orders: shared.url, inventory: shared.url, notification: shared.url }, separate };
  }
  const own = await Promise.all(MODULE_NAMES.map((module) => createTestDatabase(`${label}_${module}`)));
  const unused = new URL(ADMIN_URL);
  const name = `shop_test_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${crypto.randomUUID().slice(0, 8)}_unused`;
  unused.pathname = `/${name}`;
  return {
    url: unused.toString(),
    name,
    urls: Object.fromEntries(MODULE_NAMES.map((module, i) => [module, own[i]!.url])) as Record<ModuleName, string>,
    separate,
    async drop() {
      for (const database of own) await database.drop();
      await dropDatabase(name);
    },
  };
}

/** The environment that points a shop at these databases. */
export function databaseEnv(databases: TestDatabase & { urls?: Record<ModuleName, string>; separate?: boolean }): Record<string, string> {
  // One shared database: DATABASE_URL only, so a test that points DATABASE_URL elsewhere (a proxy) moves every module.
  if (!databases.separate) return { DATABASE_URL: databases.url };
  return {
    DATABASE_URL: databases.url,
    ...Object.fromEntries(MODULE_NAMES.flatMap((module) => (databases.urls?.[module] ? [[MODULE_DATABASE_VARIABLES[module], databases.urls[module]]] : []))),
  };
}

async function dropDatabase(name: string): Promise<void> {
  const sql = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await sql.end();
  }
}
