import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Sql } from "postgres";

/**
 * What a database's migration bookkeeping says, compared with the migrations this build carries.
 *
 * drizzle's migrator keeps one row per applied migration (`hash` = sha256 of the SQL file, `created_at` = the
 * journal's `when`) and applies every migration whose `when` is later than the newest `created_at`. A migration
 * file that was regenerated in place after databases had run it leaves those databases with a row whose hash
 * matches nothing and a `when` older than the new file's: drizzle runs the new file again and fails on the
 * tables it creates. The shop recognises such rows by hash — each module lists the variants it once shipped
 * (SupersededMigration) with the SQL that brings each to today's file — and refuses any other unknown row.
 */

/**
 * A module's drizzle-kit folder, from its journal imported `with { type: "file" }`: Bun then hands over the
 * journal's path (inside the compiled binary /$bunfs/root/drizzle/<module>/meta/_journal.json) while TypeScript
 * still types the import as the parsed JSON. The import itself stays in each module
 * (modules/<m>/infrastructure/migrations.ts): the bundler embeds only files that a literal import reaches.
 */
export function migrationsFolderOf(journal: unknown): string {
  return dirname(dirname(journal as string));
}

/** Schema of the bookkeeping tables; each module has its own table in it (`<module>_migrations`). */
export const MIGRATIONS_SCHEMA = "drizzle";
export const migrationsTable = (module: string) => `${module}_migrations`;

/** An earlier variant of one of today's migration files, which databases may have applied. */
export interface SupersededMigration {
  /** sha256 of that variant's SQL, as drizzle recorded it. */
  hash: string;
  /** Where it came from, for operators and developers (e.g. "0000_init as generated at commit 0c02003"). */
  origin: string;
  /** The tag of today's migration it is a variant of (e.g. "0000_init"). */
  replacedBy: string;
  /** SQL (any number of statements) that turns what the variant created into what `replacedBy` creates, data kept. */
  upgrade: string;
}

/** One migration this build carries: journal tag and `when`, and the hash drizzle records for it. */
export interface MigrationFile {
  tag: string;
  when: number;
  hash: string;
}

/** One row of a module's bookkeeping table. */
export interface AppliedMigration {
  id: number;
  hash: string;
  createdAt: number;
}

export interface MigrationStatus {
  module: string;
  /** The bookkeeping table exists (the module was migrated at least once). */
  recorded: boolean;
  /** Applied rows that are an earlier variant of one of today's files, with the file they become. */
  superseded: { applied: AppliedMigration; variant: SupersededMigration; baseline: MigrationFile }[];
  /** Applied rows that match neither today's files nor a known variant. */
  unknown: AppliedMigration[];
  /** Today's migrations that drizzle would apply (once the superseded rows are upgraded). */
  pending: MigrationFile[];
  /** Today's migrations, oldest first. */
  files: MigrationFile[];
}

/** The module's migrations as drizzle's migrator reads them (journal order; hash over the file's text). */
export function readMigrationFiles(migrationsFolder: string): MigrationFile[] {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta/_journal.json"), "utf8")) as { entries: { tag: string; when: number }[] };
  return journal.entries.map(({ tag, when }) => ({
    tag,
    when,
    hash: createHash("sha256").update(readFileSync(join(migrationsFolder, `${tag}.sql`)).toString()).digest("hex"),
  }));
}

/** Reads the bookkeeping and classifies every row. Writes nothing (not even the bookkeeping table). */
export async function readMigrationStatus(
  sql: Sql,
  module: string,
  migrationsFolder: string,
  variants: readonly SupersededMigration[] = [],
): Promise<MigrationStatus> {
  const files = readMigrationFiles(migrationsFolder);
  const table = `${MIGRATIONS_SCHEMA}.${migrationsTable(module)}`;
  const [{ exists } = { exists: false }] = await sql<{ exists: boolean }[]>`select to_regclass(${`"${MIGRATIONS_SCHEMA}"."${migrationsTable(module)}"`}) is not null as exists`;
  const applied = exists
    ? (await sql.unsafe<{ id: number; hash: string; created_at: string | null }[]>(`select id, hash, created_at from ${table} order by id`)).map(
        (row) => ({ id: row.id, hash: row.hash, createdAt: Number(row.created_at) }),
      )
    : [];
  const status: MigrationStatus = { module, recorded: exists, superseded: [], unknown: [], pending: [], files };
  let newest = -Infinity;
  for (const row of applied) {
    const current = files.find((file) => file.hash === row.hash);
    const variant = current ? undefined : variants.find((v) => v.hash === row.hash);
    const baseline = variant && files.find((file) => file.tag === variant.replacedBy);
    if (current) newest = Math.max(newest, row.createdAt);
    else if (variant && baseline) {
      status.superseded.push({ applied: row, variant, baseline });
      newest = Math.max(newest, baseline.when);
    } else status.unknown.push(row);
  }
  status.pending = files.filter((file) => !(file.when <= newest));
  return status;
}

/** A module whose database cannot be brought to this build's schema; the message says what to do. */
export class MigrationError extends Error {
  constructor(
    readonly module: string,
    message: string,
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

/** Why a status's unknown rows stop the migration: names the module, each row and what an operator does. */
export function describeUnknownMigrations(status: MigrationStatus): string {
  const { module, files } = status;
  const newestFile = files.at(-1);
  const rows = status.unknown.map((row) => {
    const at = Number.isFinite(row.createdAt) ? `, journal \`when\` ${row.createdAt} (${new Date(row.createdAt).toISOString()})` : "";
    const samePlace = files.find((file) => file.when === row.createdAt);
    const why = samePlace
      ? `recorded as drizzle/${module}/${samePlace.tag}.sql but with other content`
      : newestFile && row.createdAt > newestFile.when
        ? `newer than this build's newest migration, ${newestFile.tag}: the database was migrated by a newer version of shop`
        : "not one of this build's migrations nor a known earlier variant of one";
    return `  - migration ${row.hash.slice(0, 16)}… (row ${row.id} of ${MIGRATIONS_SCHEMA}.${migrationsTable(module)}${at}): ${why}`;
  });
  return [
    `Module ${module}: the database records ${status.unknown.length} migration(s) this version of shop does not know, so it cannot tell what schema the database has and changed nothing:`,
    ...rows,
    `What to do: run the shop version that migrated this database (or a newer one), or restore a backup taken before that version ran. ` +
      `If that schema is known, a developer adds its hash and the SQL that brings it to today's migration to modules/${module}/infrastructure/superseded-migrations.ts.`,
  ].join("\n");
}

/** What stands between the database and this build's schema, one line each (none: up to date). For `shop check`. */
export function describeMigrationStatus(status: MigrationStatus): string[] {
  const problems: string[] = [];
  if (status.unknown.length > 0) problems.push(describeUnknownMigrations(status));
  for (const { variant, baseline } of status.superseded) {
    problems.push(`has ${variant.origin} applied, an earlier variant of ${baseline.tag}: \`shop migrate\` upgrades it`);
  }
  if (status.pending.length > 0) {
    const tags = status.pending.map((file) => file.tag).join(", ");
    problems.push(`${status.pending.length} migration(s) not applied: ${tags} — run \`shop migrate\``);
  }
  return problems;
}

/**
 * Brings rows recorded by a superseded variant to today's baseline, in one transaction: runs each variant's
 * upgrade SQL, then rewrites its row as drizzle would have written it for today's file (hash and `when`), so
 * that drizzle then applies only what is newer. Throws a MigrationError, changing nothing, on an unknown row.
 */
export async function upgradeSupersededMigrations(sql: Sql, status: MigrationStatus): Promise<void> {
  if (status.unknown.length > 0) throw new MigrationError(status.module, describeUnknownMigrations(status));
  if (status.superseded.length === 0) return;
  const table = `${MIGRATIONS_SCHEMA}.${migrationsTable(status.module)}`;
  await sql.begin(async (tx) => {
    for (const { applied, variant, baseline } of status.superseded) {
      await tx.unsafe(variant.upgrade);
      await tx.unsafe(`update ${table} set hash = $1, created_at = $2 where id = $3`, [baseline.hash, baseline.when, applied.id]);
    }
  });
}
