/**
 * Migrations are append-only: fails (exit 1) when a migration recorded in drizzle/migrations.lock.json changed,
 * moved or disappeared, or when a migration is not recorded yet (see scripts/migrations-lock.ts).
 *
 * Usage: bun scripts/check-migrations.ts [--record] [--dir <drizzle folder>]
 *   --record   append the migrations that are not recorded yet (npm run db:generate does it after generating)
 *   --dir      the drizzle folder to check (default: drizzle/ of this checkout)
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkMigrations, LOCK_FILE, recordMigrations } from "./migrations-lock.ts";

const { values } = parseArgs({ options: { record: { type: "boolean", default: false }, dir: { type: "string" } }, strict: true });
const drizzleDir = resolve(values.dir ?? resolve(import.meta.dir, "../drizzle"));

if (values.record) {
  const { added, problems } = recordMigrations(drizzleDir);
  report(problems);
  for (const file of added) console.log(`recorded ${file} in drizzle/${LOCK_FILE}`);
  if (added.length === 0) console.log("no new migration to record");
} else {
  report(checkMigrations(drizzleDir));
  console.log(`Migrations OK: every file in ${drizzleDir} matches drizzle/${LOCK_FILE}.`);
}

function report(problems: string[]): void {
  if (problems.length === 0) return;
  console.error(`check-migrations: FAILED — ${problems.length} problem(s); recorded migrations are append-only:`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
