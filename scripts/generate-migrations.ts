/**
 * Generates SQL migrations for every module from its drizzle schema (modules/<m>/infrastructure/schema.ts)
 * into its own folder (drizzle/<m>/), one drizzle-kit run per module (see drizzle.config.ts).
 * A module without a schema file yet is skipped; a module whose schema did not change gets no new file.
 * New files are recorded in drizzle/migrations.lock.json (append-only; see scripts/migrations-lock.ts).
 *
 * Usage: bun scripts/generate-migrations.ts [--name <label>] [--custom] [module ...]
 *   --name <label>  names the new migration files (e.g. 0003_<label>.sql)
 *   --custom        creates an empty migration for hand-written SQL (requires naming the module)
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LOCK_FILE, recordMigrations } from "./migrations-lock.ts";

const MODULES = ["orders", "inventory", "notification"];
const root = resolve(import.meta.dir, "..");

const args = process.argv.slice(2);
const extra: string[] = [];
const selected: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === "--name") {
    const label = args[++i];
    if (!label || !/^[A-Za-z0-9_-]+$/.test(label)) fail("--name needs a label of letters, digits, '-' or '_'.");
    extra.push("--name", label);
  } else if (arg.startsWith("--name=")) {
    extra.push("--name", arg.slice("--name=".length));
  } else if (arg === "--custom") {
    extra.push("--custom");
  } else if (MODULES.includes(arg)) {
    selected.push(arg);
  } else {
    fail(`unknown argument "${arg}". Usage: bun scripts/generate-migrations.ts [--name <label>] [--custom] [${MODULES.join("|")} ...]`);
  }
}
if (extra.includes("--custom") && selected.length === 0) fail("--custom needs the module(s) to create the empty migration for.");

// drizzle-kit is a Node CLI (it loads the TypeScript config and schema through its own loader); run it under
// Node when there is one, under Bun otherwise.
const runtime = Bun.which("node") ?? process.execPath;
const cli = join(root, "node_modules/drizzle-kit/bin.cjs");
if (!existsSync(cli)) fail("drizzle-kit is not installed: run `npm ci` first.");

let generated = 0;
for (const moduleName of selected.length > 0 ? selected : MODULES) {
  const schema = `modules/${moduleName}/infrastructure/schema.ts`;
  if (!existsSync(join(root, schema))) {
    console.log(`- ${moduleName}: no ${schema} yet, skipped`);
    continue;
  }
  console.log(`- ${moduleName}: ${schema} → drizzle/${moduleName}/`);
  const run = Bun.spawnSync([runtime, cli, "generate", "--config", "drizzle.config.ts", ...extra], {
    cwd: root,
    env: { ...process.env, DRIZZLE_MODULE: moduleName },
    stdin: "inherit", // drizzle-kit asks interactively about renames
    stdout: "inherit",
    stderr: "inherit",
  });
  if (run.exitCode !== 0) fail(`drizzle-kit generate failed for ${moduleName} (exit code ${run.exitCode}).`);
  makeSchemaCreationIdempotent(moduleName);
  generated++;
}
// Migrations are append-only: the new files are recorded, and a recorded one that changed stops here.
const { added, problems } = recordMigrations(join(root, "drizzle"));
if (problems.length > 0) fail(`a recorded migration changed (migrations are append-only):\n  - ${problems.join("\n  - ")}`);
for (const file of added) console.log(`  recorded ${file} in drizzle/${LOCK_FILE}`);
console.log(`\nDone: ${generated} module(s) checked. Review the SQL in drizzle/<module>/ and commit it (and drizzle/${LOCK_FILE}) with the schema change.`);

/**
 * A generated `CREATE SCHEMA "<m>"` fails with "schema already exists" (42P06) when the module's schema is there
 * before its first migration, e.g. created by an operator to grant on it. (The shop's migrator keeps its bookkeeping
 * elsewhere, in schema "drizzle", table "<module>_migrations": see src/platform/migration-history.ts.) Rewritten to
 * IF NOT EXISTS, as every committed migration is; drizzle-kit diffs against its snapshots, not the SQL, so the edit
 * is safe.
 */
function makeSchemaCreationIdempotent(moduleName: string): void {
  for (const file of new Bun.Glob(`drizzle/${moduleName}/*.sql`).scanSync({ cwd: root })) {
    const path = join(root, file);
    const before = readFileSync(path, "utf8");
    const after = before.replace(/^CREATE SCHEMA "([^"]+)";/gm, 'CREATE SCHEMA IF NOT EXISTS "$1";');
    if (after !== before) {
      writeFileSync(path, after);
      console.log(`  ${file}: CREATE SCHEMA → CREATE SCHEMA IF NOT EXISTS`);
    }
  }
}

function fail(message: string): never {
  console.error(`generate-migrations: ${message}`);
  process.exit(1);
}
