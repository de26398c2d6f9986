/**
 * drizzle-kit configuration for ONE module at a time: each module owns a Postgres schema and a migrations
 * folder of its own (drizzle/<module>/), so drizzle-kit runs once per module with DRIZZLE_MODULE set.
 * `bun run db:generate` (scripts/generate-migrations.ts) does that for every module.
 *
 *   DRIZZLE_MODULE=orders npx drizzle-kit generate --name add-orders
 */
import { defineConfig } from "drizzle-kit";

const MODULES = ["orders", "inventory", "notification"];
const moduleName = process.env.DRIZZLE_MODULE ?? "";
if (!MODULES.includes(moduleName)) {
  throw new Error(`Set DRIZZLE_MODULE to one of ${MODULES.join(", ")} (got "${moduleName}").`);
}

export default defineConfig({
  dialect: "postgresql",
  schema: `./modules/${moduleName}/infrastructure/schema.ts`,
  out: `./drizzle/${moduleName}`,
  // Only this module's schema: no module may see, diff or drop another module's tables.
  schemaFilter: [moduleName],
  // Where the shop's migrator (migrateModule in src/platform/db.ts) keeps the bookkeeping: schema "drizzle", table
  // "<module>_migrations" (src/platform/migration-history.ts), so drizzle-kit migrate/check see the same history.
  migrations: { schema: "drizzle", table: `${moduleName}_migrations` },
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://postgres:postgres@127.0.0.1:5432/shop" },
  strict: true,
  verbose: true,
});
